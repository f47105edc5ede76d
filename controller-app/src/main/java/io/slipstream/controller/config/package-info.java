/** Fleet policy and the per-worker configurations the controller derives from it and the directory. */
package io.slipstream.controller.config;
