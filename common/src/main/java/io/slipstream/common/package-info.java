/** Edge pieces shared by workers and the controller: the admin HTTP endpoint, endpoints, the ZooKeeper client. */
package io.slipstream.common;
