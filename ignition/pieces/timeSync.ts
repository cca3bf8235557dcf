/**
 * Time from Alibaba Cloud's VPC-internal NTP servers through chrony. Fedora CoreOS writes a chrony config for
 * some clouds (AWS, Azure, GCP) but not for aliyun, where chrony would use the Fedora pool over the internet.
 */
import { NodeConfigPart } from "../builder";

/** Alibaba Cloud's NTP servers reachable from inside a VPC (Alibaba's "Alibaba Cloud NTP server" document). */
export const ALIBABA_NTP_SERVERS: readonly string[] = [
    "ntp.cloud.aliyuncs.com",
    "ntp7.cloud.aliyuncs.com",
    "ntp8.cloud.aliyuncs.com",
    "ntp9.cloud.aliyuncs.com",
    "ntp10.cloud.aliyuncs.com",
    "ntp11.cloud.aliyuncs.com",
    "ntp12.cloud.aliyuncs.com",
];

/** The whole /etc/chrony.conf: the servers (with the polling Alibaba recommends), drift file, step and RTC sync. */
export function timeSync(ntpServers: readonly string[]): NodeConfigPart {
    if (ntpServers.length === 0) throw new Error("Ignition input: ntpServers is empty; the node's clock would drift");
    const conf = [
        ...ntpServers.map((server) => `server ${server} iburst minpoll 4 maxpoll 10`),
        "driftfile /var/lib/chrony/drift",
        // Step the clock on the first updates (a fresh instance may be far off), slew afterwards.
        "makestep 1.0 3",
        "rtcsync",
    ];
    return { files: [{ path: "/etc/chrony.conf", contents: conf.join("\n") + "\n", overwrite: true }] };
}
