// The test harness's runtime-neutral part (node processes, proxies, namespaces, the
// store reader), compiled by its own project: the chaos run uses what the tests use.
export * from '../../test/harness/dist/runtime.js';
