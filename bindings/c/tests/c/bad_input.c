/*
 * Bad input from C: every call must return an error status with a message, never crash.
 * Prints one line per check; exits 0 when all pass, 1 otherwise. Run by
 * bindings/c/tests/bad_input.rs (also under valgrind).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mesos/mesos.h>

static int failures = 0;

/* Checks that `got` is `want` and that mesos_last_error() mentions `needle` (is empty
 * when `needle` is). */
static void check(const char *what, mesos_status_t got, mesos_status_t want, const char *needle) {
    const char *message = mesos_last_error();
    int ok = got == want && message != NULL &&
             (needle[0] == '\0' ? message[0] == '\0' : strstr(message, needle) != NULL);
    printf("%s %s: status %d (want %d), error \"%s\"\n", ok ? "ok  " : "FAIL", what, got, want,
           message ? message : "(NULL)");
    if (!ok) {
        failures++;
    }
}

/* FrameworkInfo { user: "u", name: "n" } */
static const uint8_t FRAMEWORK[] = {0x0a, 0x01, 'u', 0x12, 0x01, 'n'};
/* The same, cut in the middle of the name. */
static const uint8_t TRUNCATED[] = {0x0a, 0x01, 'u', 0x12, 0x05, 'n'};
/* FrameworkInfo { name: "n" }: the required `user` is missing. */
static const uint8_t NO_USER[] = {0x12, 0x01, 'n'};
/* OfferID { value: "o" } and TaskID { value: "t" } */
static const uint8_t OFFER_ID[] = {0x0a, 0x01, 'o'};
static const uint8_t TASK_ID[] = {0x0a, 0x01, 't'};

static void ignore_offers(mesos_scheduler_driver_t *driver, void *user_data,
                          const mesos_buffer_t *offers, size_t count) {
    (void)driver;
    (void)user_data;
    (void)offers;
    (void)count;
}

int main(void) {
    mesos_scheduler_callbacks_t callbacks = {.resource_offers = ignore_offers};
    mesos_buffer_t framework = {FRAMEWORK, sizeof FRAMEWORK};
    mesos_scheduler_driver_t *driver = NULL;

    /* A successful call leaves no message. */
    check("mesos_last_error before any call", MESOS_OK, MESOS_OK, "");

    /* create: NULL arguments, bad protobuf, bad UTF-8, bad master. */
    check("create with NULL out",
          mesos_scheduler_driver_create(&callbacks, NULL, framework, "127.0.0.1:1", NULL, NULL),
          MESOS_ERROR_NULL_POINTER, "out is NULL");
    check("create with NULL callbacks",
          mesos_scheduler_driver_create(NULL, NULL, framework, "127.0.0.1:1", NULL, &driver),
          MESOS_ERROR_NULL_POINTER, "callbacks is NULL");
    check("create with NULL master",
          mesos_scheduler_driver_create(&callbacks, NULL, framework, NULL, NULL, &driver),
          MESOS_ERROR_NULL_POINTER, "master is NULL");
    check("create with a NULL framework buffer of 6 bytes",
          mesos_scheduler_driver_create(&callbacks, NULL, (mesos_buffer_t){NULL, 6},
                                        "127.0.0.1:1", NULL, &driver),
          MESOS_ERROR_NULL_POINTER, "framework_info.data");
    check("create with a truncated FrameworkInfo",
          mesos_scheduler_driver_create(&callbacks, NULL,
                                        (mesos_buffer_t){TRUNCATED, sizeof TRUNCATED},
                                        "127.0.0.1:1", NULL, &driver),
          MESOS_ERROR_INVALID_PROTOBUF, "mesos.v1.FrameworkInfo");
    check("create with a FrameworkInfo missing its user",
          mesos_scheduler_driver_create(&callbacks, NULL,
                                        (mesos_buffer_t){NO_USER, sizeof NO_USER},
                                        "127.0.0.1:1", NULL, &driver),
          MESOS_ERROR_INVALID_PROTOBUF, "user");
    check("create with a master that is not UTF-8",
          mesos_scheduler_driver_create(&callbacks, NULL, framework, "127.0.0.1:\xff", NULL,
                                        &driver),
          MESOS_ERROR_INVALID_UTF8, "not valid UTF-8");
    check("create with a master that is no address",
          mesos_scheduler_driver_create(&callbacks, NULL, framework, "no such master:x", NULL,
                                        &driver),
          MESOS_ERROR_CREATE_FAILED, "is not host:port");
    if (driver != NULL) {
        printf("FAIL a refused create wrote a driver\n");
        failures++;
    }

    /* NULL driver handles. */
    check("start(NULL)", mesos_scheduler_driver_start(NULL), MESOS_ERROR_NULL_POINTER,
          "driver is NULL");
    check("launch_tasks(NULL)",
          mesos_scheduler_driver_launch_tasks(NULL, NULL, 0, NULL, 0, NULL),
          MESOS_ERROR_NULL_POINTER, "driver is NULL");
    check("join(NULL)", mesos_scheduler_driver_join(NULL), MESOS_ERROR_NULL_POINTER,
          "driver is NULL");
    check("destroy(NULL)", mesos_scheduler_driver_destroy(NULL), MESOS_ERROR_NULL_POINTER,
          "driver is NULL");
    check("executor send_status_update(NULL)",
          mesos_executor_driver_send_status_update(NULL, (mesos_buffer_t){NULL, 0}),
          MESOS_ERROR_NULL_POINTER, "driver is NULL");

    /* A driver that is never started. */
    mesos_status_t created = mesos_scheduler_driver_create(&callbacks, NULL, framework,
                                                           "127.0.0.1:1", NULL, &driver);
    check("create", created, MESOS_OK, "");
    if (driver == NULL) {
        printf("FAIL create gave no driver\n");
        return 1;
    }
    mesos_buffer_t offer_id = {OFFER_ID, sizeof OFFER_ID};
    mesos_buffer_t task_id = {TASK_ID, sizeof TASK_ID};
    check("status of a new driver", mesos_scheduler_driver_status(driver),
          MESOS_DRIVER_NOT_STARTED, "");
    check("launch_tasks on a driver not started",
          mesos_scheduler_driver_launch_tasks(driver, &offer_id, 1, NULL, 0, NULL),
          MESOS_DRIVER_NOT_STARTED, "DRIVER_NOT_STARTED");
    check("kill_task on a driver not started", mesos_scheduler_driver_kill_task(driver, task_id),
          MESOS_DRIVER_NOT_STARTED, "not running");
    check("launch_tasks with NULL tasks and a count",
          mesos_scheduler_driver_launch_tasks(driver, &offer_id, 1, NULL, 2, NULL),
          MESOS_ERROR_NULL_POINTER, "tasks (with 2 items) is NULL");
    mesos_buffer_t truncated_offer = {OFFER_ID, 2};
    check("launch_tasks with a truncated OfferID",
          mesos_scheduler_driver_launch_tasks(driver, &truncated_offer, 1, NULL, 0, NULL),
          MESOS_ERROR_INVALID_PROTOBUF, "offer_ids[0]");
    mesos_buffer_t garbage = {(const uint8_t *)"\xff\xff\xff", 3};
    check("decline with garbage filters",
          mesos_scheduler_driver_decline_offer(driver, offer_id, &garbage),
          MESOS_ERROR_INVALID_PROTOBUF, "mesos.v1.Filters");
    const char *roles[] = {"ok", "\xc3\x28"};
    check("revive with a role that is not UTF-8",
          mesos_scheduler_driver_revive_offers(driver, roles, 2), MESOS_ERROR_INVALID_UTF8,
          "roles[1]");
    check("suppress with NULL roles and a count",
          mesos_scheduler_driver_suppress_offers(driver, NULL, 1), MESOS_ERROR_NULL_POINTER,
          "roles");
    check("acknowledge with implicit acknowledgements",
          mesos_scheduler_driver_acknowledge_status_update(
              driver, (mesos_buffer_t){(const uint8_t *)"\x0a\x03\x0a\x01t\x10\x01", 7}),
          MESOS_ERROR_INVALID_ARGUMENT, "implicitly");
    check("a valid call clears the message", mesos_scheduler_driver_status(driver),
          MESOS_DRIVER_NOT_STARTED, "");
    check("join on a driver not started", mesos_scheduler_driver_join(driver),
          MESOS_DRIVER_NOT_STARTED, "");
    check("stop on a driver not started", mesos_scheduler_driver_stop(driver, 0),
          MESOS_DRIVER_NOT_STARTED, "");
    check("destroy", mesos_scheduler_driver_destroy(driver), MESOS_OK, "");

    /* The executor driver outside an agent: no MESOS_* environment. */
    mesos_executor_callbacks_t executor_callbacks = {0};
    mesos_executor_driver_t *executor = NULL;
    check("executor create without its environment",
          mesos_executor_driver_create(&executor_callbacks, NULL, &executor),
          MESOS_ERROR_CREATE_FAILED, "MESOS_");

    printf("%d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
