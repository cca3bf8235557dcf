export { PROJECT, KEYS, KeyName, keyDefault } from "./keys";
export { StageConfig, StageConfigError, ConfigProblem, EipClaim, PoolConfig, ControllerPoolConfig, AppConfig, SpringBootAppConfig, ReactAppConfig, StorageConfig, NODE_POD_PREFIX, parseStageConfig, formatProblem } from "./stageConfig";
export { loadStageConfig, decodeConfigValue } from "./load";
export { stageConfigFromFiles } from "./offline";
export { API_SERVER_PORT, planCluster, ClusterPlan, PlannedNode, PoolName } from "./plan";
