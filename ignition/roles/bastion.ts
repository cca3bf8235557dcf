/**
 * The bastion: the only SSH entry into the VPC. It runs nothing but sshd, keeps time and takes OS updates in
 * the weekly window.
 */
import { renderIgnitionConfig } from "../builder";
import { BastionIgnitionInput } from "../input";
import { coreUser, hostIdentity, sshHostKey } from "../pieces/identity";
import { osUpdates } from "../pieces/osUpdates";
import { timeSync } from "../pieces/timeSync";

/** The bastion's Ignition config. */
export function renderBastionIgnition(input: BastionIgnitionInput): string {
    return renderIgnitionConfig([
        coreUser(input.sshAuthorizedKeys),
        hostIdentity(input.hostname, input.hosts),
        sshHostKey(input.sshHostKey),
        timeSync(input.ntpServers),
        osUpdates({ kind: "weekly_window" }, input.osUpdates.updateServerUrl),
    ]);
}
