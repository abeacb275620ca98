import { useSyncExternalStore } from 'react';
import type { UiSnapshot, UiStore } from './ui-store.js';

export function useUi(store: UiStore): UiSnapshot {
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
