/**
 * A pool's slots with ready sessions, in an array (in the order they joined, the last one moving into a leaver's
 * place), for the scheduler's passes over them. Positions are kept by slot `index` in a number array, and the indices by
 * position beside the slots: taking a slot out moves the last one without reading or writing that slot (with 1,000
 * pools it is cold, and every object touched is a cache miss).
 */
import type { ManagedSession } from './session.js';
import type { ProxySlot } from './slot.js';

type Slot = ProxySlot<ManagedSession>;

export class SlotList {
    /** The slots (read it, change it through {@link add} and {@link delete}). */
    readonly items: Slot[] = [];
    /** By position: the slot's index. */
    private indices = new Int32Array(16);
    /** By slot index: its position plus one (0: not in the list). */
    private positions = new Int32Array(16);

    get length(): number {
        return this.items.length;
    }

    has(slot: Slot): boolean {
        return slot.index < this.positions.length && this.positions[slot.index]! > 0;
    }

    /** Adds `slot` at the end (when absent); returns whether it was added. */
    add(slot: Slot): boolean {
        const i = slot.index;
        if (i >= this.positions.length) this.positions = grown(this.positions, i + 1);
        if (this.positions[i]! > 0) return false;
        const p = this.items.length;
        if (p >= this.indices.length) this.indices = grown(this.indices, p + 1);
        this.items.push(slot);
        this.indices[p] = i;
        this.positions[i] = p + 1;
        return true;
    }

    /** Takes `slot` out (the last slot takes its place); returns whether it was there. */
    delete(slot: Slot): boolean {
        if (!this.has(slot)) return false;
        const i = slot.index;
        const p = this.positions[i]! - 1;
        const lastPos = this.items.length - 1;
        const last = this.items.pop()!;
        if (p !== lastPos) {
            this.items[p] = last;
            const lastIndex = this.indices[lastPos]!;
            this.indices[p] = lastIndex;
            this.positions[lastIndex] = p + 1;
        }
        this.positions[i] = 0;
        return true;
    }
}

function grown(a: Int32Array, atLeast: number): Int32Array<ArrayBuffer> {
    const b = new Int32Array(Math.max(atLeast, 2 * a.length));
    b.set(a);
    return b;
}
