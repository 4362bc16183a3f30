export { resolveTarget, openActorManager, finishRun, type ActorInput, type ActorTarget } from './run.js';
export { shopHttpRule, shopBrowserRule, type ShopPage } from './shop.js';
