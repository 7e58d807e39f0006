/** Loads every kind family so each registers its validator; add a new family file here. */
import './core.js';
import './apps.js';
import './mesh-config.js';
import './plugin.js';
import './smi.js';
import './access-control.js';
import './istio.js';
import './telemetry.js';
import './upstream-traffic-setting.js';
import './retry.js';
import './traffic-split.js';
import './sidecar.js';
