/**
 * etcd's TLS settings, as the environment variables etcd reads (ETCD_<FLAG>). The controller's Ignition writes
 * the rest of the env file (name, URLs, initial cluster); these entries are the contract between the files the
 * control plane copies into `nodePaths.etcdPkiDir` and the flags that point at them.
 */
import { nodePaths, pkiFiles } from "../layout/node";

/**
 * TLS for both etcd ports: clients and peers must present a certificate from the etcd CA (which signs nothing
 * else, so a Kubernetes client certificate can never talk to etcd). `dir` is where etcd sees the files.
 */
export function etcdTlsEnvironment(dir: string = nodePaths.etcdPkiDir): Record<string, string> {
    const at = (file: string) => `${dir}/${file}`;
    return {
        ETCD_TRUSTED_CA_FILE: at(pkiFiles.etcdTrustedCa),
        ETCD_CERT_FILE: at(pkiFiles.etcdServer),
        ETCD_KEY_FILE: at(pkiFiles.etcdServerKey),
        ETCD_CLIENT_CERT_AUTH: "true",
        ETCD_PEER_TRUSTED_CA_FILE: at(pkiFiles.etcdTrustedCa),
        ETCD_PEER_CERT_FILE: at(pkiFiles.etcdPeer),
        ETCD_PEER_KEY_FILE: at(pkiFiles.etcdPeerKey),
        ETCD_PEER_CLIENT_CERT_AUTH: "true",
    };
}
