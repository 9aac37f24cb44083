import { describe, expect, it } from 'vitest';
import { Deadline, type DeadlineClock, type DeadlineOwner, DeadlineQueue } from './deadline-queue.ts';

type Timer = ReturnType<typeof setTimeout>;

/** A clock whose timers run only when the test advances it. */
class ManualClock implements DeadlineClock {
  time = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): Timer {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, fn });
    return id as unknown as Timer;
  }

  clearTimer(timer: Timer): void {
    this.timers.delete(timer as unknown as number);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward to `to`, running due timers in time order. */
  advanceTo(to: number): void {
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers)
        if (entry[1].at <= to && (!first || entry[1].at < first[1].at)) first = entry;
      if (!first) break;
      this.timers.delete(first[0]);
      this.time = first[1].at;
      first[1].fn();
    }
    this.time = to;
  }
}

/** Records which deadlines fired and when. */
class Recorder implements DeadlineOwner {
  readonly fired: Array<{ kind: number; at: number }> = [];
  readonly clock: ManualClock;
  onFire: ((kind: number) => void) | undefined;

  constructor(clock: ManualClock) {
    this.clock = clock;
  }

  onDeadline(kind: number): void {
    this.fired.push({ kind, at: this.clock.time });
    this.onFire?.(kind);
  }
}

function setup() {
  const clock = new ManualClock();
  const queue = new DeadlineQueue(clock);
  const owner = new Recorder(clock);
  return { clock, queue, owner };
}

describe('DeadlineQueue', () => {
  it.each([
    { name: 'one ms', ms: 1 },
    { name: 'a route timeout', ms: 15_000 },
    { name: 'an odd duration', ms: 37 },
  ])('fires $name after exactly its duration, not before', ({ ms }) => {
    const { clock, queue, owner } = setup();
    queue.arm(new Deadline(owner, 7), ms);
    clock.advanceTo(ms - 1);
    expect(owner.fired).toEqual([]);
    clock.advanceTo(ms);
    expect(owner.fired).toEqual([{ kind: 7, at: ms }]);
    expect(queue.size).toBe(0);
  });

  it('never fires a disarmed deadline, and disarming twice is harmless', () => {
    const { clock, queue, owner } = setup();
    const d = new Deadline(owner, 1);
    queue.arm(d, 100);
    queue.disarm(d);
    queue.disarm(d);
    clock.advanceTo(1000);
    expect(owner.fired).toEqual([]);
    expect(d.armed).toBe(false);
  });

  it('refresh pushes an armed deadline back by its whole duration', () => {
    const { clock, queue, owner } = setup();
    const d = new Deadline(owner, 1);
    queue.arm(d, 100);
    clock.advanceTo(60);
    queue.refresh(d);
    clock.advanceTo(159);
    expect(owner.fired).toEqual([]);
    clock.advanceTo(160);
    expect(owner.fired).toEqual([{ kind: 1, at: 160 }]);
  });

  it('refresh of a deadline that is not armed does nothing', () => {
    const { clock, queue, owner } = setup();
    queue.refresh(new Deadline(owner, 1));
    clock.advanceTo(1000);
    expect(owner.fired).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs thousands of deadlines on a single timer, in time order across durations', () => {
    const { clock, queue, owner } = setup();
    const kept: Deadline[] = [];
    for (let i = 0; i < 3000; i++) {
      clock.advanceTo(i);
      const d = new Deadline(owner, i);
      queue.arm(d, i % 3 === 0 ? 5000 : 7000);
      if (i % 2 === 0) queue.disarm(d);
      else kept.push(d);
      expect(clock.pendingTimers).toBe(1);
    }
    clock.advanceTo(20_000);
    expect(owner.fired).toHaveLength(kept.length);
    const times = owner.fired.map((f) => f.at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    for (const f of owner.fired) expect(f.at).toBe(f.kind + (f.kind % 3 === 0 ? 5000 : 7000));
    expect(clock.pendingTimers).toBe(0);
  });

  it('arming an earlier deadline moves the one timer earlier', () => {
    const { clock, queue, owner } = setup();
    queue.arm(new Deadline(owner, 1), 1000);
    queue.arm(new Deadline(owner, 2), 10);
    expect(clock.pendingTimers).toBe(1);
    clock.advanceTo(10);
    expect(owner.fired).toEqual([{ kind: 2, at: 10 }]);
    clock.advanceTo(1000);
    expect(owner.fired.map((f) => f.kind)).toEqual([2, 1]);
  });

  it('lets a handler cancel another deadline that expired at the same time', () => {
    const { clock, queue, owner } = setup();
    const first = new Deadline(owner, 1);
    const second = new Deadline(owner, 2);
    queue.arm(first, 50);
    queue.arm(second, 50);
    owner.onFire = (kind) => {
      if (kind === 1) queue.disarm(second);
    };
    clock.advanceTo(50);
    expect(owner.fired.map((f) => f.kind)).toEqual([1]);
  });

  it('lets a handler re-arm its own deadline', () => {
    const { clock, queue, owner } = setup();
    const d = new Deadline(owner, 1);
    owner.onFire = () => {
      if (owner.fired.length < 3) queue.arm(d, 20);
    };
    queue.arm(d, 20);
    clock.advanceTo(100);
    expect(owner.fired.map((f) => f.at)).toEqual([20, 40, 60]);
  });
});
