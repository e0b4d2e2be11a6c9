// Terminal rendering of training progress: a one-line bar redrawn in place on a TTY,
// plain lines otherwise (logs, CI, pipes).
import type { StepEvent } from '../../training/events.ts';

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function progressBar(step: number, total: number, width = 24): string {
  const filled = total > 0 ? Math.round((width * Math.min(step, total)) / total) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export function stepSummary(e: StepEvent, totalSteps: number): string {
  return `step ${e.step}/${totalSteps} loss ${e.loss.toFixed(4)} lr ${e.learningRate.toExponential(2)} grad_norm ${e.gradNorm.toFixed(3)} ${Math.round(e.tokensPerSecond)} tok/s ETA ${formatDuration(e.etaSeconds)}`;
}
