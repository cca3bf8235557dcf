/**
 * Every Kubernetes object the program creates validates against the Kubernetes schemas (kubernetes-models,
 * generated from the Kubernetes OpenAPI spec), for every stage file and for the config variants that change
 * which objects exist (TLS, app secrets).
 */
import { STAGES, renderStage, schemaError } from "./helpers";

const PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIBstand-in\n-----END CERTIFICATE-----\n";

const VARIANTS: Record<string, Record<string, unknown>> = {
    "as written": {},
    "TLS certificate from config": { ingressTlsCertificate: PEM_CERT, ingressTlsKey: { secure: "v1:stand-in" } },
    "TLS from an existing Secret": { ingress: { tlsSecretName: "shop-example-com" } },
    "app secrets": {
        appSecrets: {
            orders: { DB_PASSWORD: { secure: "v1:stand-in" } },
            inventory: { DB_PASSWORD: { secure: "v1:stand-in" }, API_TOKEN: { secure: "v1:stand-in" } },
        },
    },
};

describe("every object validates against the Kubernetes schema", () => {
    it("covers every stage file", () => {
        expect(STAGES).toEqual(["dev", "prod", "staging"]);
    });

    for (const stage of STAGES) {
        for (const [variant, overrides] of Object.entries(VARIANTS)) {
            it(`${stage}, ${variant}`, () => {
                const objects = renderStage(stage, overrides);
                expect(objects.length).toBeGreaterThan(40);
                const errors = objects
                    .map((o) => [`${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`, schemaError(o)])
                    .filter(([, e]) => e !== undefined);
                expect(errors).toEqual([]);
            });
        }
    }
});

describe("the schema check itself", () => {
    // Guards against a validator that accepts anything (the checks above would then prove nothing).
    const deployment = () => renderStage("dev").find((o) => o.kind === "Deployment" && o.metadata.name === "orders")! as any;

    it("rejects a Deployment without a selector", () => {
        const broken = deployment();
        delete broken.spec.selector;
        expect(schemaError(broken)).toMatch(/selector/);
    });

    it("rejects a container port given as text", () => {
        const broken = deployment();
        broken.spec.template.spec.containers[0].ports[0].containerPort = "8080";
        expect(schemaError(broken)).toMatch(/containerPort|integer/);
    });

    it("rejects a Service protocol outside the enum", () => {
        const service = renderStage("dev").find((o) => o.kind === "Service" && o.metadata.name === "kube-dns")! as any;
        service.spec.ports[0].protocol = "ICMP";
        expect(schemaError(service)).toBeDefined();
    });
});
