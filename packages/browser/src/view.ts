/**
 * Views that Crawlee is handed instead of the real library objects (the shared browser, the launcher): a Proxy that
 * answers the properties in `overrides` itself and forwards everything else to the target, methods bound to it.
 */
export function viewWith<T extends object>(target: T, overrides: Readonly<Record<string, unknown>>): T {
    return new Proxy(target, {
        get: (t, property) => {
            if (typeof property === 'string' && Object.hasOwn(overrides, property)) return overrides[property];
            const value = Reflect.get(t, property, t) as unknown;
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(t) : value;
        },
    });
}
