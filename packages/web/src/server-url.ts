import { WEBSOCKET_PATH } from '@meshchat/client/browser';

/**
 * The WebSocket endpoint of the node that served this page: the first server the
 * client tries. The node lists the cluster's other endpoints in its welcome.
 */
export function endpointOf(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${WEBSOCKET_PATH}`;
}
