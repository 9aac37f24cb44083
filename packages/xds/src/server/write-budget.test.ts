import { describe, expect, it } from 'vitest';
import { createWriteBudget, type WriteQueue } from './write-budget.ts';

/** Records which writes started, and lets a test finish them. */
function recorder() {
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const push = (queue: WriteQueue, name: string, bytes: number) =>
    queue.push(bytes, (done) => {
      started.push(name);
      finish.set(name, done);
    });
  const done = (name: string) => finish.get(name)?.();
  return { started, push, done };
}

describe('createWriteBudget', () => {
  it('starts writes while the bytes in flight fit, and the rest as earlier ones finish', () => {
    const budget = createWriteBudget(100);
    const { started, push, done } = recorder();
    const [a, b, c] = [budget.queue(), budget.queue(), budget.queue()];
    push(a as WriteQueue, 'a1', 60);
    push(b as WriteQueue, 'b1', 40);
    push(c as WriteQueue, 'c1', 30);
    expect(started).toEqual(['a1', 'b1']);
    expect(budget.inFlightBytes()).toBe(100);
    expect(budget.waitingWrites()).toBe(1);
    done('a1');
    expect(started).toEqual(['a1', 'b1', 'c1']);
    expect(budget.inFlightBytes()).toBe(70);
    expect(budget.waitingWrites()).toBe(0);
  });

  it('keeps each stream in order and lets waiting streams take turns', () => {
    const budget = createWriteBudget(10);
    const { started, push, done } = recorder();
    const [a, b] = [budget.queue(), budget.queue()] as [WriteQueue, WriteQueue];
    push(a, 'a1', 10);
    push(a, 'a2', 10);
    push(a, 'a3', 10);
    push(b, 'b1', 10);
    push(b, 'b2', 10);
    for (const name of ['a1', 'a2', 'b1', 'a3', 'b2']) done(name);
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3', 'b2']);
  });

  it('lets a response larger than the budget go alone', () => {
    const budget = createWriteBudget(10);
    const { started, push, done } = recorder();
    const [a, b] = [budget.queue(), budget.queue()] as [WriteQueue, WriteQueue];
    push(a, 'big', 500);
    push(b, 'small', 1);
    expect(started).toEqual(['big']);
    done('big');
    expect(started).toEqual(['big', 'small']);
  });

  it('on close drops what waits and releases what is in flight; done twice counts once', () => {
    const budget = createWriteBudget(10);
    const { started, push, done } = recorder();
    const [a, b] = [budget.queue(), budget.queue()] as [WriteQueue, WriteQueue];
    push(a, 'a1', 10);
    push(a, 'a2', 10);
    push(b, 'b1', 5);
    a.close();
    a.close();
    push(a, 'a3', 1);
    expect(started).toEqual(['a1', 'b1']);
    expect(budget.waitingWrites()).toBe(0);
    done('a1');
    done('b1');
    done('b1');
    expect(budget.inFlightBytes()).toBe(0);
  });

  it('takes writes pushed while a finished write starts the next one', () => {
    const budget = createWriteBudget(10);
    const started: string[] = [];
    const [a, b] = [budget.queue(), budget.queue()] as [WriteQueue, WriteQueue];
    let finishFirst: () => void = () => {};
    a.push(10, (done) => {
      started.push('a1');
      finishFirst = done;
    });
    b.push(10, (done) => {
      started.push('b1');
      // A synchronous peer: finishes at once and pushes again from inside the write.
      b.push(10, (again) => {
        started.push('b2');
        again();
      });
      done();
    });
    finishFirst();
    expect(started).toEqual(['a1', 'b1', 'b2']);
    expect(budget.inFlightBytes()).toBe(0);
  });
});
