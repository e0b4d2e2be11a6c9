// A page of experiments with their checkpoints and artifacts (and the edges back to the
// experiment), or with the diagnosis of their loss curves, costs a fixed number of database
// round trips, whatever the page size: counted with the driver's command monitoring
// (commandStarted events).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectId, type CommandStartedEvent } from 'mongodb';
import { MetricsRepository } from '../../src/store/metrics.ts';
import { mixedRunCurves } from '../analytics/synthetic-curves.ts';
import { gqlData, startTestServer, type TestServer } from './harness.ts';
import { CREATE_EXPERIMENT, runInput } from './fixtures.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer({ monitorCommands: true });
  const metrics = new MetricsRepository(server.store.db);
  for (let i = 0; i < 50; i++) {
    const created = await gqlData(server.url, CREATE_EXPERIMENT, { input: runInput({ name: `run-${String(i).padStart(2, '0')}`, checkpoints: 2 }) });
    const curves = Object.entries(mixedRunCurves(i)).flatMap(([key, c]) => c.steps.map((step, k) => ({ key, step, value: c.values[k]! })));
    if (curves.length > 0) await metrics.appendMetrics(new ObjectId(created.createExperiment.id), curves);
  }
});

after(async () => {
  await server?.close();
});

const PAGE_WITH_CHILDREN = /* GraphQL */ `
  query Page($first: Int!) {
    experiments(first: $first, sort: { field: NAME, direction: ASC }) {
      edges {
        node {
          id name
          dataset { files { path } }
          checkpoints { step artifacts { sha256 } experiment { name } }
          artifacts { sha256 kind checkpoint { step } experiment { name } }
        }
      }
    }
  }
`;

async function commandsFor(first: number, query = PAGE_WITH_CHILDREN): Promise<{ names: string[]; data: any }> {
  const names: string[] = [];
  const record = (event: CommandStartedEvent) => {
    if (event.commandName !== 'endSessions') names.push(event.commandName);
  };
  server.mongoClient.on('commandStarted', record);
  try {
    const data = await gqlData(server.url, query, { first });
    return { names, data };
  } finally {
    server.mongoClient.off('commandStarted', record);
  }
}

test('50 experiments with checkpoints and artifacts: one find per edge, same as for 5', async () => {
  const small = await commandsFor(5);
  const large = await commandsFor(50);

  const nodes = large.data.experiments.edges.map((e: any) => e.node);
  assert.equal(nodes.length, 50);
  for (const node of nodes) {
    assert.equal(node.checkpoints.length, 2);
    assert.equal(node.artifacts.length, 3);
    assert.equal(node.checkpoints[1].artifacts.length, 1);
    assert.equal(node.checkpoints[0].experiment.name, node.name);
    assert.equal(node.artifacts[2].experiment.name, node.name);
  }

  // experiments page, checkpoints by experiment, artifacts by experiment, artifacts by
  // checkpoint, checkpoints by id (artifact -> checkpoint), datasets by sha256; the edges
  // back to the experiment are served from the page (loader primed): no query at all.
  assert.deepEqual([...large.names].sort(), ['find', 'find', 'find', 'find', 'find', 'find']);
  assert.equal(large.names.length, small.names.length, `5 experiments: ${small.names.join(',')}; 50: ${large.names.join(',')}`);
});

const PAGE_WITH_DIAGNOSIS = /* GraphQL */ `
  query Page($first: Int!) {
    experiments(first: $first, sort: { field: NAME, direction: ASC }) {
      edges { node { id name diagnosis { rule key evidence { key step } } } }
    }
  }
`;

test('50 experiments with their diagnosis: the same commands as for 5, the same findings as one run at a time', async () => {
  const small = await commandsFor(5, PAGE_WITH_DIAGNOSIS);
  const large = await commandsFor(50, PAGE_WITH_DIAGNOSIS);

  // The page, then the curves' first and last buckets (one aggregate), then per key the
  // raw points of the short curves and the rollups of the long ones (both pages hold a
  // long run).
  const counts = (names: string[]) => names.reduce((c, n) => ({ ...c, [n]: (c[n] ?? 0) + 1 }), {} as Record<string, number>);
  assert.deepEqual(counts(large.names), { find: 5, aggregate: 1 });
  assert.deepEqual(small.names, large.names, `5 experiments: ${small.names.join(',')}; 50: ${large.names.join(',')}`);

  const nodes = large.data.experiments.edges.map((e: any) => e.node);
  assert.equal(nodes.length, 50);
  const rules = nodes.map((n: any) => n.diagnosis.map((f: any) => f.rule).join(','));
  assert.deepEqual(rules.slice(0, 8), ['', 'OVERFITTING', 'FLAT_NEAR_START', 'DIVERGENCE', 'OVERFITTING', 'OSCILLATION_WITHOUT_TREND', '', '']);
  // Each node's findings are the ones its run gets when asked for alone.
  for (const i of [1, 3, 12, 29]) {
    const alone = await gqlData(server.url, `query($id: ID!) { experiment(id: $id) { diagnosis { rule key evidence { key step } } } }`, { id: nodes[i].id });
    assert.deepEqual(nodes[i].diagnosis, alone.experiment.diagnosis, nodes[i].name);
  }
});
