export { GatewayMetrics, methodLabel } from './gateway-metrics.js';
