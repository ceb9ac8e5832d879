// The object activate() returns (api.ts): what integration and e2e tests read after driving the commands — the runs
// and their outcomes, the last error shown, the loaded model's backend and why, and a run's attention as the host
// holds it.
import type { AttentionLensApi } from './api';
import type { Services } from './services';
import { userSettingsFile } from './user-settings-file';
import { openDroppedRun } from './commands/open-saved-run';

export function testApi(s: Services): AttentionLensApi {
  return {
    ...s.runLog.api(),
    loading: () => s.models.manager.isLoading,
    backend: () => {
      const m = s.models.manager.current;
      return m ? { name: m.backend, note: s.models.note(m) ?? '' } : undefined;
    },
    statusText: () => s.status.text,
    statusAtLayers: () => s.status.atLayers,
    logLines: () => s.log.lines(),
    userSettingsFile,
    panelNotice: () => s.panels.live()?.noticeText,
    panelCount: () => [...s.panels.list()].filter((p) => !p.isDisposed).length,
    panelReady: () => s.panels.live()?.isReady === true,
    openDropped: (dropped) => openDroppedRun(s, s.panels.forRun(), dropped),
    attention: (runId: number) =>
      [...s.panels.list()]
        .map((p) => p.snapshot())
        .find((snap) => snap?.runId === runId)
        ?.layers.map((l) => ({
          layer: l.layer,
          heads: l.heads,
          queryLength: l.queryLength,
          keyLength: l.keyLength,
          data: l.data,
        })),
    keptValue: (runId, layer, head, query, key) =>
      [...s.panels.list()]
        .map((p) => p.snapshot())
        .find((snap) => snap?.runId === runId)
        ?.kept?.value(layer, head, query, key),
  };
}
