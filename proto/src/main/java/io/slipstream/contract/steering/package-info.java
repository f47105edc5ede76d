/**
 * Flow steering decisions both sides of the contract must compute identically: which policy a flow
 * matches ({@link io.slipstream.contract.steering.PolicyClassifier}), which bucket it falls in
 * ({@link io.slipstream.contract.steering.FlowHash}), which worker serves each bucket
 * ({@link io.slipstream.contract.steering.BucketPlacement}), which site a destination belongs to
 * ({@link io.slipstream.contract.steering.SiteMap}) and which far-site peer a wanopt worker pairs with
 * ({@link io.slipstream.contract.steering.PeerPairing}). Pure: no I/O, no clocks.
 */
package io.slipstream.contract.steering;
