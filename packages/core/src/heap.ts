/**
 * An indexed binary heap: push, pop, remove and update of any item in O(log n), top in O(1), and its items readable
 * by index (`at(i)`, in heap order: no particular order) for uniform random picks in O(1). Each item remembers its
 * position through `pos`/`setPos`, so an item can sit in several heaps at once under different position fields.
 */
export class IndexedHeap<T> {
    private readonly items: T[] = [];

    constructor(
        /** True when `a` must come out before `b`. */
        private readonly before: (a: T, b: T) => boolean,
        /** The item's position in this heap (-1 when not in it). */
        private readonly pos: (item: T) => number,
        private readonly setPos: (item: T, pos: number) => void,
    ) {}

    get size(): number {
        return this.items.length;
    }

    /** The first item, or undefined when empty. */
    top(): T | undefined {
        return this.items[0];
    }

    /** The item at heap position `index` (0 ≤ index < size). */
    at(index: number): T {
        return this.items[index]!;
    }

    has(item: T): boolean {
        const p = this.pos(item);
        return p >= 0 && this.items[p] === item;
    }

    push(item: T): void {
        this.items.push(item);
        this.setPos(item, this.items.length - 1);
        this.up(this.items.length - 1);
    }

    pop(): T | undefined {
        const first = this.items[0];
        if (first !== undefined) this.removeAt(0);
        return first;
    }

    /** Removes `item` if it is in this heap. */
    remove(item: T): boolean {
        if (!this.has(item)) return false;
        this.removeAt(this.pos(item));
        return true;
    }

    /** Restores the order after `item`'s key changed (inserts it when absent). */
    update(item: T): void {
        if (!this.has(item)) return this.push(item);
        const p = this.pos(item);
        this.up(p);
        this.down(this.pos(item));
    }

    private removeAt(index: number): void {
        const items = this.items;
        const removed = items[index]!;
        const last = items.pop()!;
        this.setPos(removed, -1);
        if (index < items.length) {
            items[index] = last;
            this.setPos(last, index);
            this.up(index);
            this.down(this.pos(last));
        }
    }

    private up(index: number): void {
        const items = this.items;
        const item = items[index]!;
        while (index > 0) {
            const parent = (index - 1) >> 1;
            const p = items[parent]!;
            if (!this.before(item, p)) break;
            items[index] = p;
            this.setPos(p, index);
            index = parent;
        }
        items[index] = item;
        this.setPos(item, index);
    }

    private down(index: number): void {
        const items = this.items;
        const n = items.length;
        const item = items[index]!;
        for (;;) {
            const l = 2 * index + 1;
            if (l >= n) break;
            const r = l + 1;
            const c = r < n && this.before(items[r]!, items[l]!) ? r : l;
            const child = items[c]!;
            if (!this.before(child, item)) break;
            items[index] = child;
            this.setPos(child, index);
            index = c;
        }
        items[index] = item;
        this.setPos(item, index);
    }
}
