/** The worker's control surface: gRPC WorkerControl and grpc.health.v1, lifecycle state and load reports. */
package io.slipstream.worker.control;
