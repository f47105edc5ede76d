package io.slipstream.onos.it.services;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.onlab.packet.IpAddress;
import org.onosproject.cluster.ControllerNode;
import org.onosproject.cluster.DefaultControllerNode;
import org.onosproject.cluster.Leader;
import org.onosproject.cluster.Leadership;
import org.onosproject.cluster.NodeId;
import org.onosproject.core.ApplicationId;
import org.onosproject.core.DefaultApplicationId;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * The activator of the test-services bundle that OnosAppPackagingIT builds and installs into Karaf.
 * It stands in for the ONOS core: for every interface named in the bundle's
 * {@value #SERVICES_HEADER} manifest header it registers an implementation that records the call
 * (on standard output: Karaf's console in server mode) and answers with a neutral value:
 * empty collections, an application id for the name asked, this node as leader of every topic.
 * The services are registered and withdrawn with the shell command {@code slipstreamit:core up|down};
 * {@code slipstreamit:components BUNDLE FILE} writes the Declarative Services state of each component of
 * that bundle to FILE (a batch client shows neither what such a command returns nor what Felix SCR's own
 * scr:list prints).
 */
public final class TestServicesActivator implements BundleActivator {

    /** Manifest header: comma-separated names of the interfaces to register. */
    public static final String SERVICES_HEADER = "Slipstream-Test-Services";
    /** Manifest header: {@code <config key>=<JSON>}, the network configuration the registry serves. */
    public static final String NETCFG_HEADER = "Slipstream-Test-Netcfg";

    static final NodeId LOCAL = NodeId.nodeId("it-node");

    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();
    private ServiceRegistration<?> command;

    @Override
    public void start(BundleContext context) {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("osgi.command.scope", "slipstreamit");
        props.put("osgi.command.function", new String[] {"components", "core"});
        command = context.registerService(Object.class, new Commands(context), props);
    }

    @Override
    public void stop(BundleContext context) {
        command.unregister();
        synchronized (registrations) {
            down();
        }
    }

    private void down() {
        for (ServiceRegistration<?> r : registrations) {
            r.unregister();
        }
        registrations.clear();
    }

    /**
     * The shell commands: {@code components BUNDLE FILE} writes one line per component of that bundle,
     * {@code COMPONENT <name> <STATE>}, to FILE; {@code core up} registers the services, {@code core down}
     * withdraws them.
     */
    public final class Commands {
        private final BundleContext context;

        Commands(BundleContext context) {
            this.context = context;
        }

        /** Prints its answer: a batch client shows what a command prints, not what it returns. */
        public String core(String upOrDown) throws ClassNotFoundException {
            String answer = coreAnswer(upOrDown);
            System.out.println(answer);
            return answer;
        }

        private String coreAnswer(String upOrDown) throws ClassNotFoundException {
            synchronized (registrations) {
                if ("down".equals(upOrDown)) {
                    int n = registrations.size();
                    down();
                    return "CORE down " + n;
                }
                if (!"up".equals(upOrDown)) {
                    throw new IllegalArgumentException("expected 'up' or 'down', got '" + upOrDown + "'");
                }
                if (!registrations.isEmpty()) {
                    return "CORE up " + registrations.size();
                }
                String header = context.getBundle().getHeaders().get(SERVICES_HEADER);
                for (String name : header == null ? new String[0] : header.split(",")) {
                    String iface = name.trim();
                    if (iface.isEmpty()) {
                        continue;
                    }
                    Class<?> type = context.getBundle().loadClass(iface);
                    Object service = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                            new NeutralService(type.getSimpleName(),
                                    context.getBundle().getHeaders().get(NETCFG_HEADER)));
                    Dictionary<String, Object> props = new Hashtable<>();
                    props.put("slipstream.test", Boolean.TRUE);
                    registrations.add(context.registerService(iface, service, props));
                    System.out.println("TEST-SERVICE registered " + iface);
                }
                return "CORE up " + registrations.size();
            }
        }

        /** Writes the report to {@code file} too: a batch client does not print what a Gogo-style command returns. */
        public String components(String symbolicName, String file) throws java.io.IOException {
            String report = components(symbolicName);
            java.nio.file.Path path = java.nio.file.Paths.get(file);
            java.nio.file.Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
            java.nio.file.Files.write(tmp, report.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            java.nio.file.Files.move(tmp, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return report;
        }

        public String components(String symbolicName) {
            ServiceReference<ServiceComponentRuntime> ref = context.getServiceReference(ServiceComponentRuntime.class);
            if (ref == null) {
                return "NO-SCR";
            }
            ServiceComponentRuntime scr = context.getService(ref);
            try {
                StringBuilder out = new StringBuilder();
                for (Bundle b : context.getBundles()) {
                    if (!symbolicName.equals(b.getSymbolicName())) {
                        continue;
                    }
                    for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(b)) {
                        Collection<ComponentConfigurationDTO> configs = scr.getComponentConfigurationDTOs(d);
                        if (configs.isEmpty()) {
                            out.append("COMPONENT ").append(d.name).append(' ')
                                    .append(scr.isComponentEnabled(d) ? "NO_CONFIGURATION" : "DISABLED").append('\n');
                        }
                        for (ComponentConfigurationDTO c : configs) {
                            out.append("COMPONENT ").append(d.name).append(' ').append(state(c.state));
                            if (c.unsatisfiedReferences != null) {
                                for (var u : c.unsatisfiedReferences) {
                                    out.append(" unsatisfied=").append(u.name);
                                }
                            }
                            out.append('\n');
                        }
                    }
                }
                return out.length() == 0 ? "NO-COMPONENTS " + symbolicName : out.toString();
            } finally {
                context.ungetService(ref);
            }
        }

        private static String state(int state) {
            switch (state) {
                case ComponentConfigurationDTO.ACTIVE:
                    return "ACTIVE";
                case ComponentConfigurationDTO.SATISFIED:
                    return "SATISFIED";
                case ComponentConfigurationDTO.UNSATISFIED_REFERENCE:
                    return "UNSATISFIED_REFERENCE";
                case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION:
                    return "UNSATISFIED_CONFIGURATION";
                case 16: // FAILED_ACTIVATION (DS 1.4)
                    return "FAILED_ACTIVATION";
                default:
                    return "STATE_" + state;
            }
        }
    }

    /**
     * Answers every call with a neutral value of the declared return type; as a network configuration
     * registry it also serves the configuration given for a key, built by the factory the caller
     * registered for it, as ONOS's registry does.
     */
    private static final class NeutralService implements InvocationHandler {
        private final String name;
        private final String netcfgKey;
        private final com.fasterxml.jackson.databind.JsonNode netcfg;
        private final Map<Class<?>, org.onosproject.net.config.ConfigFactory<?, ?>> factories =
                new java.util.concurrent.ConcurrentHashMap<>();

        NeutralService(String name, String netcfg) {
            this.name = name;
            if (netcfg == null || !netcfg.contains("=")) {
                this.netcfgKey = null;
                this.netcfg = null;
            } else {
                this.netcfgKey = netcfg.substring(0, netcfg.indexOf('='));
                try {
                    this.netcfg = new com.fasterxml.jackson.databind.ObjectMapper()
                            .readTree(netcfg.substring(netcfg.indexOf('=') + 1));
                } catch (java.io.IOException e) {
                    throw new IllegalArgumentException(NETCFG_HEADER + ": not JSON after '" + netcfgKey + "='", e);
                }
            }
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private Object networkConfig(Method method, Object[] args) {
            if (method.getName().equals("registerConfigFactory")) {
                org.onosproject.net.config.ConfigFactory<?, ?> f =
                        (org.onosproject.net.config.ConfigFactory<?, ?>) args[0];
                factories.put(f.configClass(), f);
                return null;
            }
            // getConfig(subject, configClass)
            org.onosproject.net.config.ConfigFactory f = factories.get((Class<?>) args[1]);
            if (f == null || netcfg == null || !f.configKey().equals(netcfgKey)) {
                return null;
            }
            org.onosproject.net.config.Config config = f.createConfig();
            config.init(args[0], netcfgKey, netcfg, new com.fasterxml.jackson.databind.ObjectMapper(), c -> { });
            return config;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) {
            switch (method.getName()) {
                case "equals":
                    return args != null && args.length == 1 && proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "toString":
                    return "TestService[" + name + "]";
                default:
                    break;
            }
            System.out.println("TEST-SERVICE call " + name + "." + method.getName());
            if (name.equals("NetworkConfigRegistry") && (method.getName().equals("registerConfigFactory")
                    || method.getName().equals("getConfig") && args != null && args.length == 2)) {
                return networkConfig(method, args);
            }
            return neutral(method.getReturnType(), args);
        }

        private static Object neutral(Class<?> type, Object[] args) {
            String firstString = null;
            if (args != null) {
                for (Object a : args) {
                    if (a instanceof String) {
                        firstString = (String) a;
                        break;
                    }
                }
            }
            if (type == void.class) {
                return null;
            } else if (type == boolean.class) {
                return Boolean.FALSE;
            } else if (type == int.class) {
                return 0;
            } else if (type == long.class) {
                return 0L;
            } else if (type == short.class) {
                return (short) 0;
            } else if (type == byte.class) {
                return (byte) 0;
            } else if (type == double.class) {
                return 0d;
            } else if (type == float.class) {
                return 0f;
            } else if (type == char.class) {
                return (char) 0;
            } else if (type == Set.class) {
                return Collections.emptySet();
            } else if (type == List.class || type == Collection.class || type == Iterable.class) {
                return Collections.emptyList();
            } else if (type == Map.class) {
                return Collections.emptyMap();
            } else if (type == Iterator.class) {
                return Collections.emptyIterator();
            } else if (type == Optional.class) {
                return Optional.empty();
            } else if (type == Stream.class) {
                return Stream.empty();
            } else if (type == CompletableFuture.class) {
                return CompletableFuture.completedFuture(null);
            } else if (type == ApplicationId.class) {
                return new DefaultApplicationId(1, firstString == null ? "io.slipstream.test" : firstString);
            } else if (type == NodeId.class) {
                return LOCAL;
            } else if (type == ControllerNode.class) {
                return new DefaultControllerNode(LOCAL, IpAddress.valueOf("127.0.0.1"));
            } else if (type == Leadership.class) {
                return new Leadership(firstString == null ? "" : firstString,
                        new Leader(LOCAL, 1, System.currentTimeMillis()), List.of(LOCAL));
            } else if (type == Leader.class) {
                return new Leader(LOCAL, 1, System.currentTimeMillis());
            }
            return null;
        }
    }
}
