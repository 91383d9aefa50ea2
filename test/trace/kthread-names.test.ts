// Which task names are taken for kernel threads when a trace gives no better evidence (no
// fork history; with record-tgid a kernel thread's tgid is its own pid, like a process's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKernelThreadName } from '../../src/trace/tasks.ts';

test('kernel threads named as the kernel names them are kernel threads', () => {
  // kthread_run()/kthread_create() formats in the kernel sources: mm/damon/core.c,
  // kernel/rcu/tree.c, fs/ext4/super.c, kernel/workqueue.c, kernel/softirq.c.
  for (const comm of ['kdamond.0', 'rcuc/3', 'rcub/0', 'ext4lazyinit', 'kworker/0:1H', 'kworker/u8:2', 'ksoftirqd/1', '<idle>']) {
    assert.equal(isKernelThreadName(comm), true, comm);
  }
});

test('user programs whose names resemble kernel threads are not', () => {
  // nfsdcld and ksmbd.mountd are user-space daemons beside the nfsd and ksmbd kernel threads.
  for (const comm of ['nfsdcld', 'ksmbd.mountd', 'kdamond', 'rcu-test', 'ext4fsck', 'madvstorm', 'sleepwake']) {
    assert.equal(isKernelThreadName(comm), false, comm);
  }
});
