export { PROJECT, KEYS, KeyName, keyDefault } from "./keys";
export { StageConfig, StageConfigError, ConfigProblem, EipClaim, PoolConfig, ControllerPoolConfig, AppConfig, SpringBootAppConfig, ReactAppConfig, StorageConfig, parseStageConfig, formatProblem } from "./stageConfig";
export { loadStageConfig, decodeConfigValue } from "./load";
export { stageConfigFromFiles } from "./offline";
export { planCluster, ClusterPlan, PlannedNode, PoolName } from "./plan";
