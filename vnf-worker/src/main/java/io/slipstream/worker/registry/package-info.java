/** Registration of the worker in ZooKeeper through Curator service discovery, surviving session loss. */
package io.slipstream.worker.registry;
