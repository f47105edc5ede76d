package io.slipstream.e2e.sdn;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.onlab.packet.ChassisId;
import org.onlab.packet.IpAddress;
import org.onlab.packet.MacAddress;
import org.onlab.packet.VlanId;
import org.onosproject.net.ConnectPoint;
import org.onosproject.net.DefaultAnnotations;
import org.onosproject.net.DefaultDevice;
import org.onosproject.net.DefaultHost;
import org.onosproject.net.DefaultPort;
import org.onosproject.net.Device;
import org.onosproject.net.DeviceId;
import org.onosproject.net.Host;
import org.onosproject.net.HostId;
import org.onosproject.net.HostLocation;
import org.onosproject.net.Port;
import org.onosproject.net.PortNumber;
import org.onosproject.net.device.DeviceServiceAdapter;
import org.onosproject.net.host.HostServiceAdapter;
import org.onosproject.net.provider.ProviderId;

/**
 * What ONOS's device and host subsystems would report for the test bridge: one OpenFlow switch
 * ({@code of:<datapath id>}) whose ports are the namespaces' veths, and one host per namespace with
 * its MAC, IP address and attachment point, as host discovery (ARP) would learn them.
 */
public final class SwitchView {

    private static final ProviderId PROVIDER = new ProviderId("of", "io.slipstream.e2e.sdn");

    private final DeviceId deviceId;
    private final Device device;
    private final List<Port> ports = new ArrayList<>();
    private final List<Host> hosts = new ArrayList<>();

    public SwitchView(OvsSwitch ovs) {
        this.deviceId = DeviceId.deviceId(String.format("of:%016x", ovs.datapathId()));
        this.device = new DefaultDevice(PROVIDER, deviceId, Device.Type.SWITCH, "Open vSwitch", "3.x", "netdev",
                ovs.bridge(), new ChassisId(ovs.datapathId()));
        for (OvsSwitch.Host h : ovs.hosts().values()) {
            PortNumber port = PortNumber.portNumber(h.port(), h.hostIf());
            ports.add(new DefaultPort(device, port, true,
                    DefaultAnnotations.builder().set("portName", h.hostIf()).build()));
            hosts.add(new DefaultHost(PROVIDER, HostId.hostId(h.mac()), h.mac(), VlanId.NONE,
                    new HostLocation(deviceId, port, System.currentTimeMillis()),
                    Set.of(IpAddress.valueOf(h.ip()))));
        }
    }

    public DeviceId deviceId() {
        return deviceId;
    }

    /** The device service: the bridge, available, with its ports. */
    public DeviceServiceAdapter deviceService() {
        return new DeviceServiceAdapter(ports) {
            @Override
            public int getDeviceCount() {
                return 1;
            }

            @Override
            public int getAvailableDeviceCount() {
                return 1;
            }

            @Override
            public Iterable<Device> getDevices() {
                return List.of(device);
            }

            @Override
            public Iterable<Device> getAvailableDevices() {
                return List.of(device);
            }

            @Override
            public Iterable<Device> getDevices(Device.Type type) {
                return type == Device.Type.SWITCH ? List.of(device) : List.of();
            }

            @Override
            public Iterable<Device> getAvailableDevices(Device.Type type) {
                return getDevices(type);
            }

            @Override
            public Device getDevice(DeviceId id) {
                return deviceId.equals(id) ? device : null;
            }

            @Override
            public boolean isAvailable(DeviceId id) {
                return deviceId.equals(id);
            }

            @Override
            public List<Port> getPorts(DeviceId id) {
                return deviceId.equals(id) ? List.copyOf(ports) : List.of();
            }

            @Override
            public Port getPort(DeviceId id, PortNumber number) {
                return getPorts(id).stream().filter(p -> p.number().equals(number)).findFirst().orElse(null);
            }
        };
    }

    /** The host service: one host per namespace. */
    public HostServiceAdapter hostService() {
        return new HostServiceAdapter() {
            @Override
            public int getHostCount() {
                return hosts.size();
            }

            @Override
            public Iterable<Host> getHosts() {
                return List.copyOf(hosts);
            }

            @Override
            public Host getHost(HostId id) {
                return hosts.stream().filter(h -> h.id().equals(id)).findFirst().orElse(null);
            }

            @Override
            public Set<Host> getHostsByVlan(VlanId vlanId) {
                return hosts.stream().filter(h -> h.vlan().equals(vlanId)).collect(Collectors.toSet());
            }

            @Override
            public Set<Host> getHostsByMac(MacAddress mac) {
                return hosts.stream().filter(h -> h.mac().equals(mac)).collect(Collectors.toSet());
            }

            @Override
            public Set<Host> getHostsByIp(IpAddress ip) {
                return hosts.stream().filter(h -> h.ipAddresses().contains(ip)).collect(Collectors.toSet());
            }

            @Override
            public Set<Host> getConnectedHosts(ConnectPoint point) {
                return hosts.stream().filter(h -> h.locations().stream().anyMatch(l -> l.deviceId()
                        .equals(point.deviceId()) && l.port().equals(point.port()))).collect(Collectors.toSet());
            }

            @Override
            public Set<Host> getConnectedHosts(DeviceId id) {
                return hosts.stream().filter(h -> h.locations().stream().anyMatch(l -> l.deviceId().equals(id)))
                        .collect(Collectors.toSet());
            }
        };
    }
}
