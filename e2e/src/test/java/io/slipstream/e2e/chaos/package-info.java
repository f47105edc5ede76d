/**
 * The chaos suite (issue 9): real worker JVMs, a real ZooKeeper and the standalone controller, with a failure
 * injected mid-traffic. Each scenario checks that nothing is lost or corrupted (every byte verified against
 * what was sent) and that the fleet recovers, and prints one {@code CHAOS <scenario>: ...} summary line.
 * The data-plane scenarios ({@code WanoptKillChaosIT}, {@code CacheKillChaosIT}, {@code CardFailureChaosIT},
 * {@code OverloadChaosIT}) share the {@code Data*} helpers; see {@code docs/chaos.md}.
 */
package io.slipstream.e2e.chaos;
