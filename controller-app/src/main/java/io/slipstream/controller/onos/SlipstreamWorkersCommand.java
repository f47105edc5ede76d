package io.slipstream.controller.onos;

import io.slipstream.controller.fleet.WorkerView;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.onosproject.cli.AbstractShellCommand;

/** Lists the workers the Slipstream controller sees. */
@Service
@Command(scope = "onos", name = "slipstream-workers", description = "Lists the Slipstream workers and their health")
public class SlipstreamWorkersCommand extends AbstractShellCommand {

    @Override
    protected void doExecute() {
        SlipstreamService service = get(SlipstreamService.class);
        if (!service.isLeader()) {
            print("this instance is not the leader of %s; ask the leader", SlipstreamManager.APP_NAME);
            return;
        }
        for (WorkerView w : service.workers()) {
            print("id=%s role=%s site=%s health=%s%s data=%s capacity=%dB/s flows=%d%s", w.id(), w.record().role(),
                    w.record().site(), w.health().label(), w.registered() ? "" : " (unregistered)",
                    w.record().steeredEndpoint().isEmpty() ? w.record().dataEndpoint() : w.record().steeredEndpoint(),
                    w.record().capacityBytesPerSecond(), w.load().getActiveFlows(),
                    w.reason() == null || w.reason().isEmpty() ? "" : " reason=" + w.reason());
        }
    }
}
