package io.slipstream.controller.onos;

import java.util.Set;
import org.onlab.rest.AbstractWebApplication;

/** The app's JAX-RS application, served by ONOS under {@code /onos/slipstream} (see WEB-INF/web.xml). */
public class SlipstreamWebApplication extends AbstractWebApplication {
    @Override
    public Set<Class<?>> getClasses() {
        return getClasses(SlipstreamWebResource.class);
    }
}
