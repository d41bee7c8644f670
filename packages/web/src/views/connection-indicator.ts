import type { ConnectedInfo, DisconnectedInfo, ReconnectingInfo } from '@meshchat/client/browser';

type State = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/**
 * The header's connection status: the node the page is on, and a failover as it
 * happens (which node was lost and why, the attempts, where it went and how long it
 * took). Its data attributes say the same for tests and styles.
 */
export class ConnectionIndicator {
  private failovers = 0;

  constructor(
    private readonly element: HTMLElement,
    private readonly text: HTMLElement,
  ) {}

  connecting(server: string): void {
    this.show('connecting', `connecting to ${server}…`);
  }

  connected(info: ConnectedInfo): void {
    this.element.dataset.node = info.nodeId;
    if (!info.lost) return this.show('connected', `on ${info.nodeId}`, info.server);
    this.failovers++;
    this.element.dataset.failovers = String(this.failovers);
    this.element.dataset.lost = info.lost.nodeId;
    this.show(
      'connected',
      `on ${info.nodeId} · failed over from ${info.lost.nodeId} in ${info.failoverMs ?? '?'} ms`,
      `${info.server}; lost ${info.lost.nodeId}: ${info.lost.reason}`,
    );
  }

  disconnected(info: DisconnectedInfo): void {
    delete this.element.dataset.node;
    this.show('reconnecting', `lost ${info.nodeId} (${info.reason}) · reconnecting…`);
  }

  reconnecting(info: ReconnectingInfo): void {
    const lost = this.element.dataset.state === 'reconnecting' ? `${this.text.textContent?.split(' · ')[0]} · ` : '';
    this.show('reconnecting', `${lost}reconnecting, attempt ${info.attempt}…`, `next: ${info.server}`);
  }

  closed(reason: string): void {
    delete this.element.dataset.node;
    this.show('closed', `disconnected: ${reason}`);
  }

  private show(state: State, text: string, detail?: string): void {
    this.element.dataset.state = state;
    this.text.textContent = text;
    this.element.title = detail ?? text;
  }
}
