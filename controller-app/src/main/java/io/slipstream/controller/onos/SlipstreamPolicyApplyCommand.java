package io.slipstream.controller.onos;

import io.slipstream.proto.v1.FleetPolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;
import org.onosproject.cli.AbstractShellCommand;

/** Validates a fleet policy file and puts it in force. */
@Service
@Command(scope = "onos", name = "slipstream-policy-apply",
        description = "Validates a Slipstream fleet policy (JSON file) and puts it in force")
public class SlipstreamPolicyApplyCommand extends AbstractShellCommand {

    @Argument(index = 0, name = "file", description = "Fleet policy JSON file", required = true)
    @Completion(FileCompleter.class)
    String file = null;

    @Override
    protected void doExecute() {
        String json;
        try {
            json = new String(Files.readAllBytes(Paths.get(file)), StandardCharsets.UTF_8);
        } catch (IOException e) {
            error("cannot read %s: %s", file, e.toString());
            return;
        }
        try {
            FleetPolicy applied = get(SlipstreamService.class).applyPolicy(json);
            print("applied %s: %d policies", file, applied.getPoliciesCount());
        } catch (IllegalArgumentException e) {
            error("%s: %s", file, e.getMessage());
        }
    }
}
