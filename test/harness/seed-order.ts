// ServerList shuffles the seeds in the client's constructor (Fisher-Yates, each swap
// with j = floor(random() * (i + 1))); a draw just below 1 swaps every element with
// itself. A test that places a client on a chosen node gives it this draw while the
// client is built, and Math.random (the backoff's jitter) afterwards.
const KEEP_SEED_ORDER = 0.999999;

/**
 * Builds a client that tries its seeds in the order given: `build` passes `random` to
 * the client's options. Check `knownServers` afterwards, in case the client changed.
 */
export function buildInSeedOrder<T>(build: (random: () => number) => T): T {
  let isBuilding = true;
  try {
    return build(() => (isBuilding ? KEEP_SEED_ORDER : Math.random()));
  } finally {
    isBuilding = false;
  }
}
