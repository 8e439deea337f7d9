/*
 * Work done beside a synchronous call: one background thread per process runs one job while the JS
 * thread that started it does something else (the write of an appendBatch), then that JS thread waits for
 * the job before it returns to JS. Nothing crosses the event loop, so there is no promise, no callback and
 * no window in which other JS runs while the job reads the caller's memory; the exceptions, a job posted
 * after a claim that JS outlives until a later call waits for it (lz4-frame.c's pipeline), and a job its
 * owner detached from (it runs on after the call returns), keep their memory referenced by contract.
 *
 *   seglog_beside_start(job, arg)  1: job(arg) runs on the worker; 0: it does not (no second CPU, the
 *                                  worker is busy with another JS thread's job, it could not start, or
 *                                  it is parked during a wake-up back-off, below), and the caller runs
 *                                  job(arg) itself
 *   seglog_beside_wait()           after a start that returned 1: returns once job(arg) has returned; a
 *                                  job the worker has not picked up yet is taken back and run here, so a
 *                                  busy or descheduled worker costs no more than doing the job inline
 *   seglog_beside_claim()          1: the caller now holds the worker, which spins (at most CLAIM_SPIN_NS)
 *                                  for the job the caller is about to post; 0: as start
 *   seglog_beside_post(job, arg)   after a claim: runs job(arg) on the worker; then wait as after a start
 *   seglog_beside_release()        after a claim that posted nothing: lets the worker go
 *   seglog_beside_done()           after a post: whether the job has returned
 *   seglog_beside_detach()         after a post, instead of wait, when the caller no longer needs the job
 *                                  (lz4-frame.c took over a block the worker is late with): a job not
 *                                  picked up is dropped, a running one gives the worker back when it
 *                                  returns; returns a ticket for seglog_beside_ended (0: nothing runs)
 *   seglog_beside_ended(ticket)    whether the detached job of `ticket` has returned
 *
 * Why not the libuv thread pool: a pool job's result reaches JS only through the event loop. Measured on
 * this 2-vCPU VM (CRC-32C + record walk of a 1 MiB batch, ~115 us inline): ~160-250 us from queueing to
 * the resolved promise with nothing else running, ~420 us when it overlapped a 1 MiB write.
 *
 * Why the worker is steered off the caller's CPU: Linux's wake-affine placement puts a woken thread on
 * its waker's CPU when that CPU looks cheap to share, and the waker then spends ~260 us in a write()
 * syscall while the job waits behind it. A C test (pthread condvar, 1 MiB pwrite beside a 1 MiB CRC)
 * measured a median of 9 us to wake but a p90 of ~270 us, and ~400 us for the pair against 260 us for the
 * write alone; with the worker's affinity excluding the waker's CPU, 50 us to wake (p90 65) and 260 us for
 * the pair. The affinity is re-set only when the caller is seen on another CPU (one sched_getcpu per start).
 *
 * Why the worker polls for a while after each job: waking a thread parked on a condition variable costs
 * the waker a futex syscall that interrupts the sleeping vCPU, measured at 12-24 us of the JS thread's time
 * per appendBatch here (a VM exit per wake-up). For POLL_WINDOW_US after its last job the worker instead
 * naps POLL_INTERVAL_NS at a time (a timer on its own CPU, no cross-CPU wake-up) and looks for the next
 * job, which the caller then only has to store; after the window it parks, and the next start pays the
 * syscall once. Cost: ~100 short naps over the window after a job, none while idle.
 *
 * Why it spins LINGER_NS before the first nap: a 20 us nap takes ~50-60 us on this VM (the timer's
 * granularity under the hypervisor; a 1 us nap ~20 us), so a job or claim that comes while the worker naps
 * waits ~25 us on average, and back-to-back lz4 batches claim ~15-20 us after the previous one ends (its
 * CRC, the return to JS, 4 KiB of records): traced, the worker took up block 0 a median 27 us after it was
 * published, a fifth of the batch. With the spin it takes it up at once. Measured on 1000 x 100 B lz4
 * batches of JSON-like values (same process, 100 interleaved rounds of 20 batches, medians of the
 * per-round ratios against the naps alone): 1.12-1.19x for spins of 25-200 us, 1.10x with a busy loop
 * on the other CPU; random values (stored blocks, little work for the worker) 0.99x. Cost: at most
 * LINGER_NS of the worker's CPU after a job, ~15-20 us between back-to-back batches. Only jobs posted as
 * lingering (seglog_beside_post_lingering: lz4-frame.c's pipeline) are followed by the spin: after
 * appendBatch's checks, whose caller is still in its write, the spin cost the write, 0.65-0.70x of a bare
 * writeSync loop against 0.77-0.89x without it (three alternating runs of the append bench each); the
 * hypervisor seems to count a spinning vCPU against the VM's share.
 *
 * Two bounded spins for the LZ4 frame of lz4-frame.c, whose jobs are 64 KiB blocks of ~35-150 us that a
 * 20 us nap or a parked worker's ~35-50 us wake-up would delay by a large fraction:
 * - The waiter spins up to WAIT_SPIN_NS (200 us) on `finished` before it sleeps: its CPU has nothing else
 *   to do (the call is synchronous), and the job usually ends within that time (the caller waits only
 *   after doing its own share of the same work).
 * - A claim makes the worker spin up to CLAIM_SPIN_NS (200 us, or until the claim is released) for the
 *   job: the LZ4 caller claims when it has written ~40 KiB of records and posts block 0 at 64 KiB, so the
 *   worker is awake, and looking, when the job arrives. Only a claim spins the worker.
 *   Measured (before the 20 us naps above existed: the worker then parked after every job; lz4 encode of
 *   1000 x 100 B batches, A/B against the one-thread build in one process, median of 150 adjacent-chunk
 *   ratios, two runs each): both spins 1.30-1.41x (random values) and 1.40-1.45x (repetitive); claim
 *   spin only 1.25-1.30x / 1.31-1.47x; wait spin only 0.91-1.14x / 1.21-1.24x; neither 0.85-1.36x /
 *   1.21-1.23x.
 * Neither spin uses the x86 PAUSE instruction: under this VM's hypervisor a PAUSE loop is taken for a
 * vCPU waiting on a lock (pause-loop exiting) and the vCPU is descheduled, so the spin turns into the
 * very wake-up it avoids (the LZ4 frame after ~120 us of other work: ~800-970 us with PAUSE, ~210-250
 * us with a plain compiler barrier).
 *
 * Why a start or claim may refuse a parked worker: on this VM, when the hypervisor is short of CPUs
 * (steal of 15-35% in /proc/stat), waking the parked worker blocked the waker for 2.3-2.7 ms per wake-up
 * (pthread_cond_signal; ~30 us otherwise), every time, for minutes: presumably the woken vCPU preempts the
 * waker's on a shared physical CPU. An appendBatch block of 8 MiB then ran at 0.08-0.12x of a writeSync
 * loop, and lz4 encode collapsed to ~1.2 M records/s. So the waker times each wake-up; one slower than
 * WAKE_SLOW_NS starts a back-off: the next BACKOFF_MIN_REFUSALS starts or claims that find the worker
 * parked return 0 (the caller runs the job inline, ~0.1-0.15 ms for a cold MiB of CRC and walk) instead
 * of waking it. A worker still polling is used as always: posting to it wakes nobody. Each slow wake-up
 * after a back-off doubles the next one, up to BACKOFF_MAX_REFUSALS; a fast wake-up resets it. Counted in
 * jobs, not time: a back-off in time would leave every job of that time without the worker, however many
 * (a 200 ms round of the lz4 encode bench is ~1000 batches). And for SLOW_WAKE_MEMORY_NS after a slow wake-up (fast ones come and go in
 * that state) the worker polls
 * for SLOW_WAKE_POLL_WINDOW_US after each job instead of POLL_WINDOW_US, so that callers a few ms apart
 * (the append bench alternates 8 MiB blocks of appendBatch and of a writeSync loop, ~2.5 ms each) find it
 * polling rather than parked. Measured with the bench's appendBatch row (median of its per-block ratios
 * to the writeSync loop), this build against the one before in alternating processes: at 33-38% steal,
 * 0.58-0.72x against 0.31-0.68x (four pairs); at 8-17% steal, 0.85-0.92x against 0.71-0.82x (six pairs).
 * In the first state the worker still missed half the jobs (not picked up during the write: its vCPU
 * hardly ran), which then ran inline after the write.
 *
 * The worker blocks every signal (they belong to Node's threads) and is detached: it ends with the
 * process. A child forked without exec has no worker: the
 * pthread_atfork handler marks it unavailable there.
 */
#define _GNU_SOURCE
#include "seglog.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#ifdef __linux__
#include <sched.h>
#include <sys/prctl.h>
#endif

/* Jobs are leaf computations (CRC, walks, block codecs); their frames are small. */
#define WORKER_STACK_BYTES (256 * 1024)
/* How long the worker keeps looking for the next job after one (covers back-to-back appends). */
#define POLL_WINDOW_US 2000
/* The same within SLOW_WAKE_MEMORY_NS of a slow wake-up: see the back-off in the header comment. */
#define SLOW_WAKE_POLL_WINDOW_US 20000
#define SLOW_WAKE_MEMORY_NS 10000000000LL
/* Nap between looks: the worker picks a job up within about this long while it polls. */
#define POLL_INTERVAL_NS 20000
/* The spin after each job, before the naps (see the header comment). */
#define LINGER_NS 100000
/* The bounded spins of the header comment. */
#define WAIT_SPIN_NS 200000
#define CLAIM_SPIN_NS 200000
/* A wake-up slower than this starts or extends the back-off of the header comment (fast ones: ~12-40 us). */
#define WAKE_SLOW_NS 500000LL
/*
 * The back-off's first length in refused starts and claims, and its cap: doubled by each slow wake-up
 * after it. A refused job costs the caller about what the worker would have saved it (~0.1 ms: the CRC and
 * walk of a cold MiB, or the blocks of an lz4 batch the worker would have compressed), so 16 of them cost
 * about one more slow wake-up (~2.5 ms), and a lasting slow state pays one wake-up per 1024 jobs.
 */
#define BACKOFF_MIN_REFUSALS 16
#define BACKOFF_MAX_REFUSALS 1024

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_ready = PTHREAD_COND_INITIALIZER;
static pthread_cond_t job_done = PTHREAD_COND_INITIALIZER;
static pthread_t worker;
static bool available;
/*
 * Set by the JS thread that takes the worker (a start or claim); cleared by its wait, release or detach, or
 * by the worker as a detached job returns. While set, other JS threads run their jobs inline.
 */
static atomic_bool claimed;
/*
 * The job slot: the owner stores the argument, then the job; whoever exchanges the job out of the slot
 * (the worker, or the owner taking it back) runs it. Sequentially consistent atomics throughout: `parked`
 * against `pending_job`, and `waiting` against `finished`, are each a store-then-load pair on both sides
 * (of two such pairs at least one side sees the other's store), so no wake-up is lost.
 */
static _Atomic(seglog_job) pending_job;
static void *pending_arg;
static atomic_bool finished;
static atomic_bool parked;  /* the worker waits, or is about to, on job_ready */
static atomic_bool waiting; /* the owner waits, or is about to, on job_done */
static atomic_bool spin_requested; /* set by a claim: the worker spins for the job */
static atomic_bool lingering;      /* the posted job is followed by the LINGER_NS spin */
/* Jobs the worker ran (not those taken back): tests check that the worker was used. */
static atomic_size_t jobs_run;
/*
 * Jobs are numbered as they are posted; `ended` is the number of the last one that returned, wherever it
 * ran or was dropped (jobs run one at a time, so it only grows). `detached` is the number of the running
 * job its owner detached from, 0 for none. The worker clears it by a compare-and-swap on its own job's
 * number as that job returns, the owner on the same number when it sees the job has ended; whichever
 * clears it gives the worker back, so that happens once, and a worker late on an old job can never give
 * back a claim taken since.
 */
static atomic_size_t posted;
static atomic_size_t pending_number; /* the number of the job in the slot */
static atomic_size_t ended;
static atomic_size_t detached;
/*
 * The wake-up back-off: while `refusals_left` > 0, a start or claim that finds the worker parked is
 * refused (and counts it down); `backoff_length` is the length of the last back-off (0 after a fast
 * wake-up). `wake_slow_ns` is WAKE_SLOW_NS unless a test set it (besideTuning). Counters for besideStats.
 */
static _Atomic long refusals_left;
static _Atomic long backoff_length;
static _Atomic long long wake_slow_ns = WAKE_SLOW_NS;
static _Atomic long long last_slow_wakeup; /* when the last slow one was, 0: none yet */
static atomic_size_t wakeups, slow_wakeups, refused_parked;

#ifdef __linux__
static cpu_set_t allowed;
static int steered_from = -1; /* the caller CPU the worker's affinity excludes; only the owner writes it */
#endif

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void run(seglog_job job, size_t number) {
  job(pending_arg);
  atomic_fetch_add(&jobs_run, 1);
  atomic_store(&ended, number);
  atomic_store(&finished, true);
  size_t mine = number;
  if (atomic_compare_exchange_strong(&detached, &mine, 0)) atomic_store(&claimed, false); /* owner gone */
  if (atomic_load(&waiting)) {
    pthread_mutex_lock(&lock);
    pthread_cond_signal(&job_done);
    pthread_mutex_unlock(&lock);
  }
}

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* One turn of a spin loop: a compiler barrier, not PAUSE (see the header comment). */
static inline void cpu_relax(void) { __asm__ __volatile__("" ::: "memory"); }

/* Spins until *flag is set or `ns` have passed; returns whether it was set. */
static bool spin_until_set(atomic_bool *flag, long long ns) {
  long long deadline = now_ns() + ns;
  for (unsigned i = 1;; i++) {
    if (atomic_load(flag)) return true;
    cpu_relax();
    if (i % 64 == 0 && now_ns() > deadline) return atomic_load(flag);
  }
}

/* After a claim: spins until a job is posted, the claim is released, or CLAIM_SPIN_NS have passed. */
static void spin_for_job(void) {
  long long deadline = now_ns() + CLAIM_SPIN_NS;
  for (unsigned i = 1; atomic_load(&pending_job) == NULL && atomic_load(&claimed); i++) {
    cpu_relax();
    if (i % 64 == 0 && now_ns() > deadline) return;
  }
}

/* After a job: spins until the next job or a claim, or LINGER_NS have passed. */
static void linger(void) {
  long long deadline = now_ns() + LINGER_NS;
  for (unsigned i = 1; atomic_load(&pending_job) == NULL && !atomic_load(&spin_requested); i++) {
    cpu_relax();
    if (i % 64 == 0 && now_ns() > deadline) return;
  }
}

/* Sleeps until a job is in the slot or a claim asks for a spin (see the store-then-load note on the slot). */
static void park(void) {
  pthread_mutex_lock(&lock);
  atomic_store(&parked, true);
  while (atomic_load(&pending_job) == NULL && !atomic_load(&spin_requested)) pthread_cond_wait(&job_ready, &lock);
  atomic_store(&parked, false);
  pthread_mutex_unlock(&lock);
}

/* How long the worker polls after a job: longer for a while after a slow wake-up (header comment). */
static double poll_window_us(void) {
  long long slow = atomic_load(&last_slow_wakeup);
  return slow != 0 && now_ns() - slow < SLOW_WAKE_MEMORY_NS ? SLOW_WAKE_POLL_WINDOW_US : POLL_WINDOW_US;
}

static void *worker_main(void *unused) {
  (void)unused;
#ifdef __linux__
  prctl(PR_SET_TIMERSLACK, 1UL); /* naps of POLL_INTERVAL_NS, not the default 50 us of slack on top */
#endif
  const struct timespec nap = {0, POLL_INTERVAL_NS};
  double since = now_us();
  for (;;) {
    seglog_job job = atomic_exchange(&pending_job, NULL);
    if (job != NULL) {
      atomic_store(&spin_requested, false); /* a claim's request to spin for this job: met */
      bool spin_after = atomic_load(&lingering);
      run(job, atomic_load(&pending_number));
      if (spin_after) linger();
      since = now_us();
    } else if (atomic_exchange(&spin_requested, false)) {
      spin_for_job();
      since = now_us();
    } else if (now_us() - since < poll_window_us()) {
      nanosleep(&nap, NULL);
    } else {
      park();
      since = now_us();
    }
  }
  return NULL;
}

static void forked_child(void) { available = false; }

/* Starts the worker when the process may run on at least two CPUs. */
static void start_worker(void) {
#ifdef __linux__
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2) return;
#endif
  pthread_attr_t attr;
  sigset_t all, previous;
  if (pthread_attr_init(&attr) != 0) return;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, WORKER_STACK_BYTES);
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous); /* the new thread inherits the mask */
  available = pthread_create(&worker, &attr, worker_main, NULL) == 0;
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
  pthread_attr_destroy(&attr);
  if (available) pthread_atfork(NULL, NULL, forked_child);
}

/* Keeps the worker off the CPU the caller runs on (see the header comment). */
static void steer_worker(void) {
#ifdef __linux__
  int cpu = sched_getcpu();
  if (cpu < 0 || cpu == steered_from) return;
  cpu_set_t set = allowed;
  CPU_CLR(cpu, &set);
  if (CPU_COUNT(&set) > 0) pthread_setaffinity_np(worker, sizeof set, &set);
  steered_from = cpu;
#endif
}

/* Whether a parked worker is to be left asleep now (the back-off of the header comment). */
static bool backing_off(void) {
  if (atomic_load(&refusals_left) <= 0 || !atomic_load(&parked)) return false;
  atomic_fetch_sub(&refusals_left, 1);
  atomic_fetch_add(&refused_parked, 1);
  return true;
}

/* Takes the worker for the caller: 0 when there is none, another caller holds it, or it sleeps in a back-off. */
static int claim_worker(void) {
  pthread_once(&init_once, start_worker);
  if (!available || backing_off() || atomic_exchange(&claimed, true)) return 0;
  steer_worker();
  return 1;
}

/* After a wake-up that took `took` ns: a slow one starts (or doubles) the back-off, a fast one ends it. */
static void judge_wakeup(long long took) {
  if (took <= atomic_load(&wake_slow_ns)) {
    atomic_store(&backoff_length, 0);
    return;
  }
  atomic_fetch_add(&slow_wakeups, 1);
  atomic_store(&last_slow_wakeup, now_ns());
  long length = atomic_load(&backoff_length) * 2;
  if (length < BACKOFF_MIN_REFUSALS) length = BACKOFF_MIN_REFUSALS;
  if (length > BACKOFF_MAX_REFUSALS) length = BACKOFF_MAX_REFUSALS;
  atomic_store(&backoff_length, length);
  atomic_store(&refusals_left, length);
}

/* Wakes a parked worker (for a job in the slot, or a claim's spin), timing the wake-up. */
static void wake_parked(void) {
  if (atomic_load(&parked)) {
    long long from = now_ns();
    pthread_mutex_lock(&lock);
    pthread_cond_signal(&job_ready);
    pthread_mutex_unlock(&lock);
    atomic_fetch_add(&wakeups, 1);
    judge_wakeup(now_ns() - from);
  }
}

void seglog_beside_post_lingering(seglog_job job, void *arg, bool linger_after) {
  atomic_store(&lingering, linger_after);
  atomic_store(&pending_number, atomic_fetch_add(&posted, 1) + 1);
  atomic_store(&finished, false);
  pending_arg = arg;
  atomic_store(&pending_job, job);
  wake_parked();
}

void seglog_beside_post(seglog_job job, void *arg) { seglog_beside_post_lingering(job, arg, false); }

int seglog_beside_start(seglog_job job, void *arg) {
  if (!claim_worker()) return 0;
  seglog_beside_post(job, arg);
  return 1;
}

int seglog_beside_claim(void) {
  if (!claim_worker()) return 0;
  atomic_store(&spin_requested, true);
  wake_parked();
  return 1;
}

void seglog_beside_release(void) {
  atomic_store(&spin_requested, false);
  atomic_store(&claimed, false);
}

bool seglog_beside_done(void) { return atomic_load(&finished); }

void seglog_beside_wait(void) {
  seglog_job job = atomic_exchange(&pending_job, NULL); /* not picked up yet: ours again */
  if (job != NULL) {
    job(pending_arg);
    atomic_store(&ended, atomic_load(&pending_number));
  } else if (!spin_until_set(&finished, WAIT_SPIN_NS)) {
    pthread_mutex_lock(&lock);
    atomic_store(&waiting, true);
    while (!atomic_load(&finished)) pthread_cond_wait(&job_done, &lock);
    atomic_store(&waiting, false);
    pthread_mutex_unlock(&lock);
  }
  atomic_store(&claimed, false);
}

size_t seglog_beside_detach(void) {
  size_t number = atomic_load(&pending_number);
  if (atomic_exchange(&pending_job, NULL) != NULL) { /* not picked up: the caller needs none of it */
    atomic_store(&ended, number);
    atomic_store(&claimed, false);
    return 0;
  }
  atomic_store(&detached, number);
  if (atomic_load(&ended) < number) return number; /* the worker gives itself back when it returns */
  /* It returned meanwhile: of its compare-and-swap and this one, exactly one succeeds. */
  size_t mine = number;
  if (atomic_compare_exchange_strong(&detached, &mine, 0)) atomic_store(&claimed, false);
  return 0;
}

/* In a child forked without exec there is no worker, and nothing of the parent's job runs there. */
bool seglog_beside_ended(size_t ticket) { return !available || atomic_load(&ended) >= ticket; }

size_t seglog_beside_jobs(void) { return atomic_load(&jobs_run); }

void seglog_beside_stats(size_t out[4]) {
  out[0] = atomic_load(&wakeups);
  out[1] = atomic_load(&slow_wakeups);
  out[2] = atomic_load(&refused_parked);
  out[3] = atomic_load(&parked);
}

void seglog_beside_tune(long long slow_ns, bool end_backoff) {
  atomic_store(&wake_slow_ns, slow_ns >= 0 ? slow_ns : WAKE_SLOW_NS);
  if (end_backoff) {
    atomic_store(&refusals_left, 0);
    atomic_store(&backoff_length, 0);
    atomic_store(&last_slow_wakeup, 0);
  }
}
