/**
 * Per-request deadlines (route timeout, stream idle timeout, per-try
 * timeout) on one underlying timer, instead of a `setTimeout` +
 * `clearTimeout` pair per deadline per request.
 *
 * Deadlines of the same duration are armed in clock order, so each duration
 * keeps a FIFO (an intrusive doubly linked list): arming appends, disarming
 * unlinks, refreshing moves to the tail - all O(1), no allocation. The one
 * timer is set for the earliest head; when a head is disarmed the timer is
 * left alone and, on firing early, simply re-armed for the new earliest
 * head. Deadlines fire no earlier than their time on the injected clock,
 * with the same millisecond precision as `setTimeout`.
 */

type Timer = ReturnType<typeof setTimeout>;

/** The clock and timer the queue runs on (the proxy's services; tests inject their own). */
export interface DeadlineClock {
  /** Milliseconds on a monotonic-enough clock. */
  now(): number;
  setTimer(fn: () => void, ms: number): Timer;
  clearTimer(timer: Timer): void;
}

/** Receives a deadline's expiry; `kind` tells the owner which of its deadlines fired. */
export interface DeadlineOwner {
  onDeadline(kind: number): void;
}

/** One deadline of one owner. Armed on at most one queue at a time; reusable after it fires or is disarmed. */
export class Deadline {
  readonly owner: DeadlineOwner;
  readonly kind: number;
  /** Clock time it fires at (while armed). */
  at = 0;
  prev: Deadline | undefined;
  next: Deadline | undefined;
  list: DeadlineList | undefined;
  /** Expired and about to be delivered (cleared by disarm or arm, so a handler can still cancel it). */
  expiring = false;

  constructor(owner: DeadlineOwner, kind: number) {
    this.owner = owner;
    this.kind = kind;
  }

  get armed(): boolean {
    return this.list !== undefined;
  }
}

/** The armed deadlines of one duration, earliest first. */
class DeadlineList {
  readonly ms: number;
  head: Deadline | undefined;
  tail: Deadline | undefined;

  constructor(ms: number) {
    this.ms = ms;
  }

  append(deadline: Deadline): void {
    deadline.list = this;
    deadline.prev = this.tail;
    deadline.next = undefined;
    if (this.tail) this.tail.next = deadline;
    else this.head = deadline;
    this.tail = deadline;
  }

  unlink(deadline: Deadline): void {
    if (deadline.prev) deadline.prev.next = deadline.next;
    else this.head = deadline.next;
    if (deadline.next) deadline.next.prev = deadline.prev;
    else this.tail = deadline.prev;
    deadline.prev = undefined;
    deadline.next = undefined;
    deadline.list = undefined;
  }
}

/** Many deadlines, one timer. Not safe to share across clocks. */
export class DeadlineQueue {
  private readonly clock: DeadlineClock;
  private readonly lists = new Map<number, DeadlineList>();
  /** The single lists array, for the fire loop (lists are never removed). */
  private readonly order: DeadlineList[] = [];
  private timer: Timer | undefined;
  /** Clock time the timer is set for (Infinity when none). */
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly onTimer = (): void => this.fire();

  constructor(clock: DeadlineClock) {
    this.clock = clock;
  }

  /** Arms `deadline` to fire `ms` from now (re-arms it when already armed). `ms` must be > 0. */
  arm(deadline: Deadline, ms: number): void {
    deadline.expiring = false;
    if (deadline.list) deadline.list.unlink(deadline);
    let list = this.lists.get(ms);
    if (!list) {
      list = new DeadlineList(ms);
      this.lists.set(ms, list);
      this.order.push(list);
    }
    const at = this.clock.now() + ms;
    deadline.at = at;
    list.append(deadline);
    if (at < this.timerAt) this.schedule(at);
  }

  /** Pushes an armed deadline back to its full duration from now (idle timers); no-op when not armed. */
  refresh(deadline: Deadline): void {
    const list = deadline.list;
    if (!list) return;
    deadline.at = this.clock.now() + list.ms;
    if (list.tail === deadline) return;
    list.unlink(deadline);
    list.append(deadline);
  }

  /** Disarms `deadline`; safe to repeat. */
  disarm(deadline: Deadline): void {
    deadline.expiring = false;
    deadline.list?.unlink(deadline);
  }

  /** Armed deadlines (tests, admin). */
  get size(): number {
    let n = 0;
    for (const list of this.order) for (let d = list.head; d; d = d.next) n++;
    return n;
  }

  private schedule(at: number): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimer(this.onTimer, Math.max(1, Math.ceil(at - this.clock.now())));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    // Collect first, then call owners: a handler may arm or disarm other deadlines (even expired ones).
    const expired: Deadline[] = [];
    for (const list of this.order) {
      let head = list.head;
      while (head && head.at <= now) {
        list.unlink(head);
        head.expiring = true;
        expired.push(head);
        head = list.head;
      }
    }
    let next = Number.POSITIVE_INFINITY;
    for (const list of this.order) if (list.head && list.head.at < next) next = list.head.at;
    if (next < this.timerAt) this.schedule(next);
    if (expired.length > 1) expired.sort((x, y) => x.at - y.at);
    for (const deadline of expired) {
      if (!deadline.expiring) continue;
      deadline.expiring = false;
      deadline.owner.onDeadline(deadline.kind);
    }
  }
}

const queues = new WeakMap<DeadlineClock, DeadlineQueue>();

/** The queue shared by everything running on `clock` (one per proxy's services). */
export function deadlineQueueFor(clock: DeadlineClock): DeadlineQueue {
  let queue = queues.get(clock);
  if (!queue) {
    queue = new DeadlineQueue(clock);
    queues.set(clock, queue);
  }
  return queue;
}
