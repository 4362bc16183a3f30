import type { Catalog, Price, Product } from './catalog.js';
import { escapeHtml, layout } from './html.js';

/** The shop's content pages (the block pages are in block-pages.ts). */

export function homePage(catalog: Catalog, host: string): string {
    const links = Array.from({ length: catalog.categories }, (_, i) => i + 1)
        .map((n) => `<li><a class="category" href="/category/${n}">${escapeHtml(catalog.categoryName(n))}</a></li>`)
        .join('\n');
    return layout(`${host} · Home`, `<h1>Welcome to ${escapeHtml(host)}</h1>\n<ul id="categories">\n${links}\n</ul>\n<p><a href="/js">Today's deals</a></p>`);
}

export function categoryPage(catalog: Catalog, category: number): string {
    const items = catalog.productsIn(category)
        .map((id) => `<li><a class="product" href="/product/${id}">${escapeHtml(catalog.product(id)!.name)}</a></li>`)
        .join('\n');
    const nav = [
        category > 1 ? `<a rel="prev" href="/category/${category - 1}">Previous</a>` : '',
        category < catalog.categories ? `<a rel="next" href="/category/${category + 1}">Next</a>` : '',
    ].filter(Boolean).join(' ');
    return layout(`${catalog.categoryName(category)} · Category ${category}`, `<h1>${escapeHtml(catalog.categoryName(category))}</h1>\n<ul id="products">\n${items}\n</ul>\n<nav>${nav}</nav>`);
}

export function productPage(catalog: Catalog, product: Product, price: Price): string {
    const related = catalog.related(product)
        .map((id) => `<li><a class="product" href="/product/${id}">${escapeHtml(catalog.product(id)!.name)}</a></li>`)
        .join('\n');
    return layout(
        `${product.name} · Product ${product.id}`,
        `<h1 class="product-name" data-id="${product.id}">${escapeHtml(product.name)}</h1>\n` +
            `<p>Price: <span class="price" data-location="${escapeHtml(price.location)}" data-currency="${price.currency}">${price.amount}</span> ${price.currency}</p>\n` +
            `<p><a class="category" href="/category/${product.category}">${escapeHtml(catalog.categoryName(product.category))}</a></p>\n` +
            `<h2>Related</h2>\n<ul id="related">\n${related}\n</ul>`,
    );
}

/** Text that exists on the `/js` page only once its script ran (the HTML holds it reversed). */
export const JS_RENDERED_TEXT = 'Rendered by JavaScript: 42 deals today';

export function jsPage(): string {
    const reversed = JS_RENDERED_TEXT.split('').reverse().join('');
    return layout(
        'Deals · rendered by script',
        `<h1>Deals</h1>\n<div id="app">Loading...</div>\n` +
            `<script>(function(){var t=${JSON.stringify(reversed)}.split('').reverse().join('');` +
            `var d=document.createElement('div');d.id='rendered';d.textContent=t;` +
            `var app=document.getElementById('app');app.textContent='';app.appendChild(d);})();</script>`,
    );
}

export function locationFormPage(locations: readonly string[], current: string, csrfToken: string, csrfField: string): string {
    const options = locations
        .map((l) => `<option value="${escapeHtml(l)}"${l === current ? ' selected' : ''}>${escapeHtml(l)}</option>`)
        .join('');
    return layout(
        'Choose your location',
        `<h1>Choose your location</h1>\n<p>Current location: <span id="current-location">${escapeHtml(current)}</span></p>\n` +
            `<form id="location-form" method="POST" action="/location">\n` +
            `<input type="hidden" name="${csrfField}" value="${csrfToken}">\n` +
            `<select name="location">${options}</select>\n<button type="submit">Save</button>\n</form>`,
        { head: `<meta name="csrf-token" content="${csrfToken}">` },
    );
}

export function locationSetPage(location: string): string {
    return layout('Location saved', `<h1>Location saved</h1>\n<p>Prices are now shown for <span id="current-location">${escapeHtml(location)}</span>.</p>\n<p><a href="/">Continue shopping</a></p>`);
}

/** Served to clients without the session cookie when `sessionRequired` is on; sets the cookie. */
export function landingPage(host: string, target: string): string {
    return layout(
        `Welcome to ${host}`,
        `<h1 id="landing">Welcome to ${escapeHtml(host)}</h1>\n<p>Your shopping session has started.</p>\n` +
            `<p><a id="continue" href="${escapeHtml(target)}">Continue to ${escapeHtml(target)}</a></p>`,
    );
}

export function notFoundPage(path: string): string {
    return layout('Not found', `<h1>Not found</h1>\n<p>No page at ${escapeHtml(path)}.</p>`);
}

export function badRequestPage(message: string): string {
    return layout('Bad request', `<h1>Bad request</h1>\n<p>${escapeHtml(message)}</p>`);
}
