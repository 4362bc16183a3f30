/**
 * Validation of the `learner` option with `ow`: every knob is optional, numbers are checked for range, and an unknown
 * key fails with a message naming it (`learner.siteWide.pauseMilis` is not a known option).
 */
import ow from 'ow';

const positive = ow.optional.number.finite.positive;
const positiveInt = ow.optional.number.integer.positive;
const fraction = ow.optional.number.inRange(0, 1);

/** The knobs of {@link CapOptions}. */
const capShape = {
    minObservations: positiveInt,
    keep: positiveInt,
    minCap: positiveInt,
    maxSpread: ow.optional.number.finite.greaterThanOrEqual(1),
    minShare: fraction,
    forgetAfterMillis: positive,
};

/** The `ow` shape of {@link LearnerOptions}, for the manager's options shape. */
export const learnerShape = ow.optional.object.exactShape({
    health: ow.optional.object.exactShape({
        halfLifeMillis: positive,
        discountPerOutcome: ow.optional.number.inRange(0.01, 1),
        failureWeight: positive,
        priorWeight: ow.optional.number.finite.greaterThanOrEqual(0),
    }),
    backoff: ow.optional.object.exactShape({
        baseMillis: positive,
        maxMillis: positive,
        banAfterBackoffs: positiveInt,
        banBaseMillis: positive,
        banMaxMillis: positive,
        jitter: fraction,
    }),
    siteWide: ow.optional.object.exactShape({
        horizonMillis: positive,
        minProxies: positiveInt,
        fraction: ow.optional.number.inRange(0.5, 1),
        pauseMillis: positive,
        maxPauseMillis: positive,
        stopAfterMillis: positive,
    }),
    pace: ow.optional.object.exactShape({
        decrease: ow.optional.number.inRange(0.05, 0.99),
        increase: ow.optional.number.finite.greaterThanOrEqual(0),
        minRate: positive,
        measureMillis: positive,
        forgetAfterMillis: positive,
    }),
    cap: ow.optional.object.exactShape(capShape),
    // WearOptions extends CapOptions.
    wear: ow.optional.object.exactShape({ ...capShape, runHalfLifeMillis: positive }),
    tiers: ow.optional.object.exactShape({
        blockedToMoveUp: positiveInt,
        probeLowerAfterMillis: positive,
        maxProbeLowerAfterMillis: positive,
    }),
    manyGoodUses: positiveInt,
    gatewayRateLimitsToRetire: positiveInt,
    gatewayRetryAfterFactor: ow.optional.number.finite.greaterThanOrEqual(1),
    targetErrorsInRow: positiveInt,
});
