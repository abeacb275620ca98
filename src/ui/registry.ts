import { autoscalerModule } from './agents/autoscaler/autoscaler-module.js';
import { citusSyncModule } from './agents/citus-sync/citus-module.js';
import { failoverModule } from './agents/failover/failover-module.js';
import { operatorModule } from './agents/patroni-operator/operator-module.js';
import { labModule } from './lab/lab-module.js';
import type { UiModule } from './module.js';

/** The console's modules, in the order of their views and keys. Adding an agent: its folder and a line here. */
export const MODULES: readonly UiModule[] = [
  failoverModule,
  citusSyncModule,
  operatorModule,
  autoscalerModule,
  labModule,
];
