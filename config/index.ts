/** The stage config: its schema, the loader that validates it, and the node plan derived from it. */
export { PROJECT, KEYS, KeyName, keyDefault } from "./schema";
export {
    StageConfig,
    EipClaim,
    PoolConfig,
    ControllerPoolConfig,
    AppConfig,
    SpringBootAppConfig,
    ReactAppConfig,
    StorageConfig,
} from "./types";
export { StageConfigError, ConfigProblem, formatProblem } from "./problems";
export { parseStageConfig } from "./parse";
export { loadStageConfig, decodeConfigValue } from "./load";
export { planCluster, ClusterPlan, PlannedController, PlannedEdgeNode, PlannedNode, PlannedWorker, PoolName } from "./plan";
