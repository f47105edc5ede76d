package io.slipstream.controller.onos;

import java.util.ArrayList;
import java.util.List;
import org.onlab.packet.IpAddress;
import org.onosproject.net.ConnectPoint;
import org.onosproject.net.DeviceId;
import org.onosproject.net.Host;
import org.onosproject.net.device.DeviceService;
import org.onosproject.net.host.HostService;

/** ONOS's device and host view as the {@link SteeringProgrammer} sees it. */
final class OnosNetworkView implements SteeringProgrammer.NetworkView {

    private final DeviceService deviceService;
    private final HostService hostService;

    OnosNetworkView(DeviceService deviceService, HostService hostService) {
        this.deviceService = deviceService;
        this.hostService = hostService;
    }

    @Override
    public boolean deviceKnown(DeviceId device) {
        return deviceService.getDevice(device) != null;
    }

    @Override
    public List<SteeringProgrammer.Endpoint> hostsByIp(IpAddress ip) {
        List<SteeringProgrammer.Endpoint> out = new ArrayList<>();
        for (Host h : hostService.getHostsByIp(ip)) {
            for (ConnectPoint location : h.locations()) {
                out.add(new SteeringProgrammer.Endpoint(ip, h.mac(), location));
            }
        }
        return out;
    }

    @Override
    public List<SteeringProgrammer.Endpoint> hostsAt(DeviceId device) {
        List<SteeringProgrammer.Endpoint> out = new ArrayList<>();
        for (Host h : hostService.getConnectedHosts(device)) {
            for (ConnectPoint location : h.locations()) {
                if (!location.deviceId().equals(device)) {
                    continue;
                }
                for (IpAddress ip : h.ipAddresses()) {
                    out.add(new SteeringProgrammer.Endpoint(ip, h.mac(), location));
                }
            }
        }
        return out;
    }
}
