import { strict as assert } from 'node:assert';
import {
  AuthenticationError, ConfigurationError, errorFromWire, InsufficientResourcesError, PONotFoundError, PoolShutdownError,
} from '../../../src/protocol/errors';
import { adviseOn } from '../../../src/extension/errorAdvice';

describe('extension: error advice', () => {
  it('offers signing in for an expired Coupa session', () => {
    const a = adviseOn(new AuthenticationError('the Coupa session expired'));
    assert.equal(a.message, 'the Coupa session expired', 'no class name in front of what a person reads');
    assert.equal(a.kind, 'AuthenticationError');
    assert.deepEqual(a.actions.map((x) => x.title), ['Sign in to Coupa', 'Show Log']);
    assert.equal(a.actions[0].command, 'poPool.signIn');
  });

  it('opens the Settings editor filtered to the field a configuration error names, even after the wire', () => {
    const local = adviseOn(new ConfigurationError('workerCount', 'must be a whole number from 1 to 8 (got 9)'));
    assert.deepEqual(local.actions, [{ title: 'Open Settings', command: 'workbench.action.openSettings', args: ['poPool.workerCount'] }]);
    const wire = errorFromWire({ kind: 'ConfigurationError', message: 'headlessMode: must be true or false', data: { field: 'headlessMode' } });
    assert.deepEqual(adviseOn(wire).actions[0].args, ['poPool.headless']);
    assert.deepEqual(adviseOn(new ConfigurationError('tasks', 'must be a list')).actions[0].args, ['poPool'], 'no such setting: all of ours');
  });

  it('offers starting the pool when it is shut down, and fewer workers when memory is short', () => {
    assert.deepEqual(adviseOn(new PoolShutdownError('the pool is shutting down')).actions.map((a) => a.command), ['poPool.startPool']);
    assert.deepEqual(adviseOn(new InsufficientResourcesError('4 GB needed')).actions[0].args, ['poPool.workerCount']);
    assert.deepEqual(adviseOn(new PONotFoundError('no PO 1')).actions.map((a) => a.title), ['Show Log']);
  });

  it('treats anything else as a PoolError with the log as the next step', () => {
    const a = adviseOn(new Error('connect ENOENT /x/supervisor.sock'));
    assert.equal(a.kind, 'PoolError');
    assert.equal(a.message, 'connect ENOENT /x/supervisor.sock');
    assert.deepEqual(a.actions.map((x) => x.command), ['poPool.showLog']);
  });
});
