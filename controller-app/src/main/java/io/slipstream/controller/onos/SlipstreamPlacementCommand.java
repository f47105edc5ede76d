package io.slipstream.controller.onos;

import io.slipstream.proto.v1.SteeringEntry;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.onosproject.cli.AbstractShellCommand;

/** Shows which workers serve which policy at which site, with their share of flow buckets. */
@Service
@Command(scope = "onos", name = "slipstream-placement", description = "Shows the Slipstream placement and steering")
public class SlipstreamPlacementCommand extends AbstractShellCommand {

    @Override
    protected void doExecute() {
        SlipstreamService service = get(SlipstreamService.class);
        if (!service.isLeader()) {
            print("this instance is not the leader of %s; ask the leader", SlipstreamManager.APP_NAME);
            return;
        }
        print("buckets per policy and site: %d", service.placement().getBucketCount());
        for (SteeringEntry e : service.placement().getEntriesList()) {
            int[] owned = new int[e.getMembersCount()];
            for (int owner : e.getOwnersList()) {
                owned[owner]++;
            }
            StringBuilder members = new StringBuilder();
            for (int m = 0; m < e.getMembersCount(); m++) {
                members.append(m == 0 ? "" : ", ").append(e.getMembers(m).getWorkerId()).append('=').append(owned[m]);
            }
            print("policy=%s site=%s chain=%s workers=[%s]", e.getPolicy(), e.getSite(), e.getChain(),
                    members.length() == 0 ? "none healthy" : members);
        }
        SteeringProgrammer.Program program = service.program();
        print("installed: %d groups, %d flow rules", program.groups().size(), program.rules().size());
        for (String problem : program.problems()) {
            print("not steered: %s", problem);
        }
    }
}
