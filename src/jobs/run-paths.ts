// Where a run's files live. The experiment id names the directory, so a path found on disk
// leads to the run's record and back: `<runsDir>/<experimentId>/` is the trainer's output
// directory (unless the config sets one), and `job/` beside it holds what the job layer
// keeps: the config it ran, the event log (the child's stdout) and the child's stderr.
import path from 'node:path';

export interface RunPaths {
  runDir: string;
  jobDir: string;
  configFile: string;
  eventLog: string;
  stderrLog: string;
}

export function runPaths(runsDir: string, experimentId: string): RunPaths {
  const runDir = path.resolve(runsDir, experimentId);
  const jobDir = path.join(runDir, 'job');
  return {
    runDir,
    jobDir,
    configFile: path.join(jobDir, 'config.yaml'),
    eventLog: path.join(jobDir, 'events.jsonl'),
    stderrLog: path.join(jobDir, 'stderr.log'),
  };
}
