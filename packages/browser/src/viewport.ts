/**
 * The size of a session's browser window content (the layout viewport pages are rendered at), from its fingerprint.
 */
import type { BrowserFingerprintWithHeaders } from 'fingerprint-generator';

/**
 * CSS pixels Chrome's own UI (tab strip and toolbar) takes above the page in a desktop window, about what Chrome shows
 * without a bookmarks bar. fingerprint-generator's samples have the window's outer size but no inner size (theirs
 * is 0: collected in a hidden frame), so the page area is the outer size less this.
 */
export const BROWSER_UI_HEIGHT = 85;

/** A window whose page area would be narrower or lower than this is taken as missing, and the screen is used instead. */
const MIN_WINDOW = 200;

/**
 * The viewport a session's pages get: the inner size of the fingerprint's browser window (its outer width, its outer
 * height less {@link BROWSER_UI_HEIGHT}), within its screen; the whole screen when the fingerprint has no usable window
 * size. A page then sees `innerWidth <= outerWidth` and `innerHeight < outerHeight`, as in a real browser (fingerprint-injector
 * reports the fingerprint's outer size and screen, and the inner size is the viewport's): a viewport the size of the
 * whole screen made `innerHeight` larger than `outerHeight`, which no real window has, and rendered more pixels.
 */
export function windowViewport(fingerprint: BrowserFingerprintWithHeaders['fingerprint']): { width: number; height: number } {
    const { screen } = fingerprint;
    const width = Math.round(Math.min(Number(screen.outerWidth) || 0, screen.width));
    const height = Math.round(Math.min(Number(screen.outerHeight) || 0, screen.height) - BROWSER_UI_HEIGHT);
    if (width < MIN_WINDOW || height < MIN_WINDOW) return { width: screen.width, height: screen.height };
    return { width, height };
}

/**
 * The fingerprint with a window that fits its screen, as a single-screen browser window does. fingerprint-injector
 * reports a sample's non-zero `innerWidth`/`innerHeight` whatever the page's viewport is, and a few of
 * fingerprint-generator's samples (about 1 in 3,000 desktop Chrome ones) have a window larger than their screen: seen,
 * inner 1920 x 902 and outer 2304 x 915 on a 1536 x 864 screen. The inner size is dropped (the page then reports its
 * viewport, {@link windowViewport}) and the outer size is kept within the screen. A fingerprint that already fits is
 * returned as it is.
 */
export function windowInScreen<F extends BrowserFingerprintWithHeaders['fingerprint']>(fingerprint: F): F {
    const { screen } = fingerprint;
    const fits =
        !(Number(screen.innerWidth) > 0) &&
        !(Number(screen.innerHeight) > 0) &&
        !(Number(screen.outerWidth) > screen.width) &&
        !(Number(screen.outerHeight) > screen.height);
    if (fits) return fingerprint;
    return {
        ...fingerprint,
        screen: {
            ...screen,
            innerWidth: 0,
            innerHeight: 0,
            outerWidth: Math.min(Number(screen.outerWidth) || 0, screen.width),
            outerHeight: Math.min(Number(screen.outerHeight) || 0, screen.height),
        },
    };
}
