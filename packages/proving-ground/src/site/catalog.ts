import { hash32 } from '../prng.js';

/** A product of the shop. */
export interface Product {
    id: number;
    category: number;
    name: string;
    /** Price in the default currency (US dollars), in cents. */
    baseCents: number;
}

/** A price as shown for one location. */
export interface Price {
    location: string;
    currency: string;
    /** Formatted amount, e.g. `'12.34'` (`'1851'` for yen). */
    amount: string;
}

const ADJECTIVES = ['Sturdy', 'Tiny', 'Vintage', 'Smart', 'Quiet', 'Bright', 'Rustic', 'Electric', 'Woolen', 'Golden', 'Foldable', 'Classic'];
const NOUNS = ['Kettle', 'Lamp', 'Backpack', 'Notebook', 'Chair', 'Mug', 'Headphones', 'Scarf', 'Teapot', 'Clock', 'Umbrella', 'Blender'];
const CATEGORY_NAMES = ['Kitchen', 'Garden', 'Office', 'Travel', 'Audio', 'Home', 'Outdoor', 'Toys', 'Books', 'Tools'];

/** Currency and rate per location; other locations price in USD at rate 1. */
const LOCATIONS: Record<string, { currency: string; rate: number; decimals: number }> = {
    US: { currency: 'USD', rate: 1, decimals: 2 },
    DE: { currency: 'EUR', rate: 0.92, decimals: 2 },
    FR: { currency: 'EUR', rate: 0.92, decimals: 2 },
    GB: { currency: 'GBP', rate: 0.79, decimals: 2 },
    JP: { currency: 'JPY', rate: 150, decimals: 0 },
    CA: { currency: 'CAD', rate: 1.36, decimals: 2 },
};

/** The shop's catalog: `categories` x `productsPerCategory` products with ids 1..N. */
export class Catalog {
    constructor(readonly categories: number, readonly productsPerCategory: number) {}

    get productCount(): number {
        return this.categories * this.productsPerCategory;
    }

    categoryName(category: number): string {
        return `${CATEGORY_NAMES[(category - 1) % CATEGORY_NAMES.length]} ${Math.ceil(category / CATEGORY_NAMES.length)}`;
    }

    hasCategory(category: number): boolean {
        return Number.isInteger(category) && category >= 1 && category <= this.categories;
    }

    product(id: number): Product | undefined {
        if (!Number.isInteger(id) || id < 1 || id > this.productCount) return undefined;
        const h = hash32(`product/${id}`);
        return {
            id,
            category: Math.ceil(id / this.productsPerCategory),
            name: `${ADJECTIVES[h % ADJECTIVES.length]} ${NOUNS[(h >>> 8) % NOUNS.length]} #${id}`,
            baseCents: 500 + (h % 20_000),
        };
    }

    productsIn(category: number): number[] {
        const first = (category - 1) * this.productsPerCategory + 1;
        return Array.from({ length: this.productsPerCategory }, (_, i) => first + i);
    }

    /** A few other products of the same category, so product pages link onwards. */
    related(product: Product, count = 3): number[] {
        const ids = this.productsIn(product.category).filter((id) => id !== product.id);
        const start = hash32(`related/${product.id}`) % Math.max(1, ids.length);
        return Array.from({ length: Math.min(count, ids.length) }, (_, i) => ids[(start + i) % ids.length]!);
    }

    price(product: Product, location: string): Price {
        const info = LOCATIONS[location] ?? { currency: 'USD', rate: 1, decimals: 2 };
        const amount = (product.baseCents / 100) * info.rate;
        return { location, currency: info.currency, amount: amount.toFixed(info.decimals) };
    }
}
