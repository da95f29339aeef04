/*
 * The C side of bindings/c/benches/c_callbacks.rs: a scheduler driver whose callbacks only
 * count, against the canned master at argv[1]. Prints the nanoseconds from start to the
 * argv[2]-th offers or status-update callback.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <mesos/mesos.h>

struct counter {
    long seen;
    long expected;
    struct timespec end;
    int done;
    pthread_mutex_t lock;
    pthread_cond_t changed;
};

static void one(struct counter *counter) {
    if (++counter->seen == counter->expected) {
        clock_gettime(CLOCK_MONOTONIC, &counter->end);
        pthread_mutex_lock(&counter->lock);
        counter->done = 1;
        pthread_cond_signal(&counter->changed);
        pthread_mutex_unlock(&counter->lock);
    }
}

static void offers(mesos_scheduler_driver_t *driver, void *user_data,
                   const mesos_buffer_t *buffers, size_t count) {
    (void)driver;
    (void)buffers;
    (void)count;
    one(user_data);
}

static void update(mesos_scheduler_driver_t *driver, void *user_data, mesos_buffer_t status) {
    (void)driver;
    (void)status;
    one(user_data);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s <master> <events>\n", argv[0]);
        return 2;
    }
    struct counter counter = {.expected = atol(argv[2])};
    pthread_mutex_init(&counter.lock, NULL);
    pthread_cond_init(&counter.changed, NULL);
    /* FrameworkInfo { user: "bench", name: "bench" } */
    static const uint8_t framework[] = {0x0a, 5, 'b', 'e', 'n', 'c', 'h',
                                        0x12, 5, 'b', 'e', 'n', 'c', 'h'};
    mesos_scheduler_callbacks_t callbacks = {.resource_offers = offers, .status_update = update};
    mesos_scheduler_driver_t *driver = NULL;
    if (mesos_scheduler_driver_create(&callbacks, &counter,
                                      (mesos_buffer_t){framework, sizeof framework}, argv[1],
                                      NULL, &driver) != MESOS_OK) {
        fprintf(stderr, "create: %s\n", mesos_last_error());
        return 1;
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (mesos_scheduler_driver_start(driver) != MESOS_DRIVER_RUNNING) {
        fprintf(stderr, "start: %s\n", mesos_last_error());
        return 1;
    }
    pthread_mutex_lock(&counter.lock);
    while (!counter.done) {
        pthread_cond_wait(&counter.changed, &counter.lock);
    }
    pthread_mutex_unlock(&counter.lock);
    mesos_scheduler_driver_destroy(driver);
    long long ns = (counter.end.tv_sec - start.tv_sec) * 1000000000LL +
                   (counter.end.tv_nsec - start.tv_nsec);
    printf("%lld\n", ns);
    return 0;
}
