/**
 * The manager's link to its store: the state restored on `open()`, written on Crawlee's persist-state event and on
 * `close()` (with the final stats), and the host a shared store (several processes on one Redis) gets on the running
 * manager. Changes between writes are collected by the {@link StateSaver}.
 */
import type { Configuration, Log } from '@crawlee/core';

import type { Clock } from './clock.js';
import type { SessionFactory } from './factory.js';
import { reopenedMessage } from './learner/learner.js';
import type { LearnedHealth } from './learner/model.js';
import { resolvePoolOptions, type SessionManagerOptions } from './options.js';
import { loadState, restoreState, StateSaver } from './persistence.js';
import type { Pool } from './pool.js';
import type { ProxySource } from './proxies.js';
import type { Redactor } from './redact.js';
import type { ManagedSession } from './session.js';
import { sharedStateHost } from './shared-host.js';
import type { ManagerStats } from './stats.js';
import { storeFor, storeHint, type PersistedState, type SessionStore } from './store.js';
import type { TierGate } from './tier-gate.js';
import type { JsonObject } from './types.js';

/** Crawlee's `EventType.PERSIST_STATE` (a const enum, so not importable under `verbatimModuleSyntax`). */
const PERSIST_STATE_EVENT = 'persistState' as never;

/** What the link needs from the manager. */
export interface StateLinkDeps {
    options: SessionManagerOptions;
    config: Configuration;
    clock: Clock;
    log: Log;
    redactor: Redactor;
    health: LearnedHealth;
    tierGate: TierGate | undefined;
    proxies: ProxySource;
    factory: () => SessionFactory;
    pools: ReadonlyMap<string, Pool>;
    poolFor(key: string): Pool;
    snapshot(): PersistedState;
    /** The manager's `persist()` (what the persist-state event calls). */
    persist(): Promise<void>;
    isClosed(): boolean;
    retire(session: ManagedSession, reason: string): void;
}

export class StateLink {
    /** The store (undefined with `store: false`). */
    readonly store: SessionStore | undefined;
    /** Collects the changes to write (undefined without a store). */
    readonly saver: StateSaver | undefined;
    private listening = false;
    private readonly onPersist = () => {
        this.d.persist().catch((e) => this.d.log.warning(`Could not persist the session state: ${this.d.redactor.error(e)}`));
    };

    constructor(private readonly d: StateLinkDeps) {
        this.store = storeFor(d.options.store, d.config);
        if (this.store) {
            this.saver = new StateSaver(this.store, { clock: d.clock, log: d.log, redactor: d.redactor, snapshot: () => d.snapshot(), health: d.health });
        }
    }

    /** Restores the stored state (unless `store: false` or `restore: false`): proxy health, tiers, sessions. */
    async restore(): Promise<void> {
        const { d, store } = this;
        const o = d.options;
        if (!store || (o.store && o.store.restore === false)) return;
        const state = await loadState(store, d.log, d.redactor);
        if (!state) return;
        d.tierGate?.restore(state.tiers);
        for (const { site, reopened } of d.health.restore(state.health)) d.log.warning(reopenedMessage(site, reopened, storeHint(o.store)));
        const factory = d.factory();
        const dropped = await restoreState(state, {
            poolFor: (key) => d.poolFor(key),
            hasSession: (id) => factory.live.has(id),
            reattach: (proxyId, sessionId) => d.proxies.reattach(proxyId, sessionId),
            adopt: (pool, s, proxy, headers, fingerprint) => factory.restore(pool, s, proxy, headers, fingerprint),
        });
        d.log.debug(`Restored ${factory.live.size} sessions in ${d.pools.size} pools${dropped ? ` (${dropped} dropped)` : ''}.`);
    }

    /** Starts writing the state on Crawlee's persist-state event (unless `persistOnEvent: false`). */
    listen(): void {
        const o = this.d.options.store;
        if (this.store && (o === undefined || (o && o.persistOnEvent !== false))) {
            this.d.config.getEventManager().on(PERSIST_STATE_EVENT, this.onPersist);
            this.listening = true;
        }
    }

    /** Gives a shared store its host on the manager. */
    attach(): void {
        const { d, store } = this;
        if (!store?.attach) return;
        const factory = d.factory();
        store.attach(
            sharedStateHost({
                clock: d.clock,
                health: d.health,
                live: factory.live,
                pools: d.pools,
                isClosed: () => d.isClosed(),
                poolFor: (key) => d.poolFor(key),
                poolOptions: (key) => d.pools.get(key)?.options ?? resolvePoolOptions(d.options, key),
                reattach: (proxyId, sessionId) => d.proxies.reattach(proxyId, sessionId),
                restore: (pool, s, proxy) =>
                    factory.restore(pool, s, proxy, s.headers as Readonly<Record<string, string>>, s.fingerprint as Readonly<JsonObject> | undefined),
                retire: (s, reason) => d.retire(s, reason),
                takeChanges: () => this.saver!.takeChanges(),
            }),
        );
    }

    /** Writes the whole state to the store now. */
    async persist(): Promise<void> {
        await this.saver?.flush(true);
    }

    /** Stops listening to Crawlee's persist-state event. */
    stopListening(): void {
        if (this.listening) this.d.config.getEventManager().off(PERSIST_STATE_EVENT, this.onPersist);
        this.listening = false;
    }

    /** The last write: the state, the final stats, then the store is closed. */
    async close(stats: ManagerStats): Promise<void> {
        if (!this.store || !this.saver) return;
        this.saver.close();
        await this.saver.flush(true);
        await this.store.saveStats?.({ ...stats, savedAt: new Date(this.d.clock.now()).toISOString() });
        await this.store.close?.();
    }
}
