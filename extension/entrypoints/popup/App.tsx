import { CHANNEL_TYPES, channelCapabilities } from '@rebound/shared/channels';

/** Placeholder popup: lists which channels can broadcast, straight from the shared channel table. */
export function App() {
  return (
    <main style={{ width: 320, font: '13px system-ui, sans-serif', padding: 12 }}>
      <h1 style={{ fontSize: 15, margin: '0 0 8px' }}>Rebound</h1>
      <ul style={{ margin: 0, paddingLeft: 16 }}>
        {CHANNEL_TYPES.map((type) => (
          <li key={type}>
            {channelCapabilities[type].label.es}:{' '}
            {channelCapabilities[type].canBroadcast ? 'admite difusiones' : 'no admite difusiones'}
          </li>
        ))}
      </ul>
    </main>
  );
}
