import { CheerioCrawler, type CheerioCrawlerOptions } from '@crawlee/cheerio';
import type { Configuration } from '@crawlee/core';
import { withSessions } from '@sessionpack/cheerio';
import type { SessionManager } from '@sessionpack/core';

/** What the example extracts from a shop's product page. */
export interface Product {
    url: string;
    title: string;
    price?: string;
    location?: string;
}

/**
 * A CheerioCrawler with sessionpack that follows category links and extracts product pages. Shared by the
 * actor (`main.ts`) and the demo, so both crawl the same way.
 */
export function shopCrawler(
    manager: SessionManager,
    onProduct: (product: Product) => Promise<void> | void,
    options: Partial<CheerioCrawlerOptions> = {},
    config?: Configuration,
): CheerioCrawler {
    return new CheerioCrawler(
        withSessions(
            {
                maxConcurrency: 20,
                ...options,
                requestHandler: async ({ request, $, enqueueLinks }) => {
                    await enqueueLinks({ selector: 'a[href*="/category/"], a[href*="/product/"]' });
                    const price = $('.price').first();
                    if (price.length) {
                        await onProduct({
                            url: request.loadedUrl ?? request.url,
                            title: $('h1').first().text().trim(),
                            price: price.text().trim(),
                            location: price.attr('data-location'),
                        });
                    }
                },
            },
            manager,
        ),
        config,
    );
}
