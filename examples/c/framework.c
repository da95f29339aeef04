/*
 * A Mesos framework in C on libmesos: registers with the master, launches N tasks on the
 * offers it gets, prints every status update, and exits 0 once all of them finished (1
 * when one failed, was killed or lost, or the driver failed).
 *
 *   framework <master host:port> [tasks (default 3)] [command (default "echo hello")]
 *             [executor command]
 *
 * Without an executor command the tasks are command tasks (Mesos' command executor runs
 * them); with one, each task's command goes as its data to that custom executor (the
 * shell runs the executor command: executor.c here, or a wrapper around it).
 *
 * Messages are packed and unpacked with protobuf-c code generated from
 * mesos-core/proto/mesos/v1/mesos.proto (see the Makefile). Status updates are
 * acknowledged explicitly, to show the call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mesos/mesos.h>

#include "mesos/v1/mesos.pb-c.h"

#define TASK_CPUS 0.1
#define TASK_MEM 32.0

struct framework {
    int tasks;              /* how many tasks to run */
    const char *command;    /* what each runs */
    const char *executor;   /* the custom executor's command, or NULL */
    int launched;
    int finished;
    int failed;
    int driver_failed;
};

/* The unreserved scalar resource `name` of an offer, or NULL. */
static const Mesos__V1__Resource *scalar(const Mesos__V1__Offer *offer, const char *name) {
    for (size_t i = 0; i < offer->n_resources; i++) {
        const Mesos__V1__Resource *r = offer->resources[i];
        if (strcmp(r->name, name) == 0 && r->type == MESOS__V1__VALUE__TYPE__SCALAR &&
            r->scalar != NULL && r->n_reservations == 0) {
            return r;
        }
    }
    return NULL;
}

/* A copy of `offered` (same name, type and allocation) holding `amount`. */
static void take(Mesos__V1__Resource *out, Mesos__V1__Value__Scalar *value,
                 const Mesos__V1__Resource *offered, double amount) {
    mesos__v1__resource__init(out);
    mesos__v1__value__scalar__init(value);
    value->value = amount;
    out->name = offered->name;
    out->type = MESOS__V1__VALUE__TYPE__SCALAR;
    out->scalar = value;
    out->allocation_info = offered->allocation_info;
}

/* Launches as many of the remaining tasks as fit on `offer`; declines it otherwise. */
static void use_offer(mesos_scheduler_driver_t *driver, struct framework *fw,
                      const Mesos__V1__Offer *offer, mesos_buffer_t offer_id) {
    const Mesos__V1__Resource *cpus = scalar(offer, "cpus");
    const Mesos__V1__Resource *mem = scalar(offer, "mem");
    double free_cpus = cpus ? cpus->scalar->value : 0;
    double free_mem = mem ? mem->scalar->value : 0;

    enum { MAX_PER_OFFER = 64 };
    mesos_buffer_t tasks[MAX_PER_OFFER];
    uint8_t *packed[MAX_PER_OFFER];
    size_t count = 0;
    while (fw->launched < fw->tasks && count < MAX_PER_OFFER && free_cpus >= TASK_CPUS &&
           free_mem >= TASK_MEM) {
        char id[32];
        snprintf(id, sizeof id, "task-%d", fw->launched);

        Mesos__V1__TaskID task_id;
        mesos__v1__task_id__init(&task_id);
        task_id.value = id;
        Mesos__V1__CommandInfo command;
        mesos__v1__command_info__init(&command);
        command.value = (char *)fw->command;
        command.has_shell = 1;
        command.shell = 1;
        Mesos__V1__Resource cpu_resource, mem_resource;
        Mesos__V1__Value__Scalar cpu_value, mem_value;
        take(&cpu_resource, &cpu_value, cpus, TASK_CPUS);
        take(&mem_resource, &mem_value, mem, TASK_MEM);
        Mesos__V1__Resource *resources[] = {&cpu_resource, &mem_resource};

        Mesos__V1__ExecutorID executor_id;
        mesos__v1__executor_id__init(&executor_id);
        executor_id.value = "c-executor";
        Mesos__V1__CommandInfo executor_command;
        mesos__v1__command_info__init(&executor_command);
        executor_command.value = (char *)fw->executor;
        executor_command.has_shell = 1;
        executor_command.shell = 1;
        Mesos__V1__ExecutorInfo executor;
        mesos__v1__executor_info__init(&executor);
        executor.executor_id = &executor_id;
        executor.command = &executor_command;

        Mesos__V1__TaskInfo task;
        mesos__v1__task_info__init(&task);
        task.name = id;
        task.task_id = &task_id;
        task.agent_id = offer->agent_id;
        task.n_resources = 2;
        task.resources = resources;
        if (fw->executor != NULL) {
            task.executor = &executor;
            task.has_data = 1;
            task.data.data = (uint8_t *)fw->command;
            task.data.len = strlen(fw->command);
        } else {
            task.command = &command;
        }

        size_t size = mesos__v1__task_info__get_packed_size(&task);
        packed[count] = malloc(size);
        if (packed[count] == NULL) {
            break;
        }
        mesos__v1__task_info__pack(&task, packed[count]);
        tasks[count] = (mesos_buffer_t){packed[count], size};
        count++;
        fw->launched++;
        free_cpus -= TASK_CPUS;
        free_mem -= TASK_MEM;
        printf("launching %s on agent %s: %s%s\n", id, offer->agent_id->value, fw->command,
               fw->executor != NULL ? " (on the C executor)" : "");
    }

    mesos_status_t status;
    if (count > 0) {
        status = mesos_scheduler_driver_launch_tasks(driver, &offer_id, 1, tasks, count, NULL);
    } else {
        status = mesos_scheduler_driver_decline_offer(driver, offer_id, NULL);
    }
    if (status != MESOS_DRIVER_RUNNING) {
        fprintf(stderr, "launch/decline failed (%d): %s\n", status, mesos_last_error());
    }
    for (size_t i = 0; i < count; i++) {
        free(packed[i]);
    }
}

static void registered(mesos_scheduler_driver_t *driver, void *user_data,
                       mesos_buffer_t framework_id, mesos_buffer_t master_info) {
    (void)driver;
    (void)user_data;
    (void)master_info;
    Mesos__V1__FrameworkID *id =
        mesos__v1__framework_id__unpack(NULL, framework_id.len, framework_id.data);
    printf("registered as framework %s\n", id ? id->value : "(undecodable id)");
    mesos__v1__framework_id__free_unpacked(id, NULL);
    fflush(stdout);
}

static void resource_offers(mesos_scheduler_driver_t *driver, void *user_data,
                            const mesos_buffer_t *offers, size_t count) {
    struct framework *fw = user_data;
    for (size_t i = 0; i < count; i++) {
        Mesos__V1__Offer *offer = mesos__v1__offer__unpack(NULL, offers[i].len, offers[i].data);
        if (offer == NULL) {
            fprintf(stderr, "an offer did not unpack\n");
            continue;
        }
        uint8_t id[256];
        size_t id_len = mesos__v1__offer_id__get_packed_size(offer->id);
        if (id_len <= sizeof id) {
            mesos__v1__offer_id__pack(offer->id, id);
            use_offer(driver, fw, offer, (mesos_buffer_t){id, id_len});
        }
        mesos__v1__offer__free_unpacked(offer, NULL);
    }
    fflush(stdout);
}

static int terminal(Mesos__V1__TaskState state) {
    switch (state) {
    case MESOS__V1__TASK_STATE__TASK_FINISHED:
    case MESOS__V1__TASK_STATE__TASK_FAILED:
    case MESOS__V1__TASK_STATE__TASK_KILLED:
    case MESOS__V1__TASK_STATE__TASK_LOST:
    case MESOS__V1__TASK_STATE__TASK_ERROR:
    case MESOS__V1__TASK_STATE__TASK_DROPPED:
    case MESOS__V1__TASK_STATE__TASK_GONE:
    case MESOS__V1__TASK_STATE__TASK_GONE_BY_OPERATOR:
        return 1;
    default:
        return 0;
    }
}

static void status_update(mesos_scheduler_driver_t *driver, void *user_data,
                          mesos_buffer_t buffer) {
    struct framework *fw = user_data;
    Mesos__V1__TaskStatus *status = mesos__v1__task_status__unpack(NULL, buffer.len, buffer.data);
    if (status == NULL) {
        fprintf(stderr, "a status update did not unpack\n");
        return;
    }
    const ProtobufCEnumValue *state =
        protobuf_c_enum_descriptor_get_value(&mesos__v1__task_state__descriptor, status->state);
    printf("status update: %s is %s%s%s\n", status->task_id->value,
           state ? state->name : "(unknown state)", status->message ? ": " : "",
           status->message ? status->message : "");
    if (terminal(status->state)) {
        if (status->state == MESOS__V1__TASK_STATE__TASK_FINISHED) {
            fw->finished++;
        } else {
            fw->failed++;
        }
    }
    mesos_status_t acked = mesos_scheduler_driver_acknowledge_status_update(driver, buffer);
    if (acked != MESOS_DRIVER_RUNNING) {
        fprintf(stderr, "acknowledge failed (%d): %s\n", acked, mesos_last_error());
    }
    if (fw->finished + fw->failed == fw->tasks) {
        printf("all %d tasks done: %d finished, %d failed\n", fw->tasks, fw->finished,
               fw->failed);
        mesos_scheduler_driver_stop(driver, 0);
    }
    mesos__v1__task_status__free_unpacked(status, NULL);
    fflush(stdout);
}

static void error(mesos_scheduler_driver_t *driver, void *user_data, const char *message) {
    (void)driver;
    struct framework *fw = user_data;
    fprintf(stderr, "driver error: %s\n", message);
    fw->driver_failed = 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s <master host:port> [tasks] [command] [executor command]\n",
                argv[0]);
        return 2;
    }
    struct framework fw = {
        .tasks = argc > 2 ? atoi(argv[2]) : 3,
        .command = argc > 3 ? argv[3] : "echo hello",
        .executor = argc > 4 ? argv[4] : NULL,
    };
    if (fw.tasks <= 0) {
        fprintf(stderr, "the number of tasks must be positive\n");
        return 2;
    }

    Mesos__V1__FrameworkInfo info;
    mesos__v1__framework_info__init(&info);
    info.user = "";  /* the driver fills in the user running this program */
    info.name = "C framework (libmesos example)";
    size_t info_len = mesos__v1__framework_info__get_packed_size(&info);
    uint8_t *info_bytes = malloc(info_len);
    if (info_bytes == NULL) {
        return 1;
    }
    mesos__v1__framework_info__pack(&info, info_bytes);

    mesos_scheduler_callbacks_t callbacks = {
        .registered = registered,
        .resource_offers = resource_offers,
        .status_update = status_update,
        .error = error,
    };
    mesos_scheduler_options_t options = {.implicit_acknowledgements = false};
    mesos_scheduler_driver_t *driver = NULL;
    mesos_status_t status = mesos_scheduler_driver_create(
        &callbacks, &fw, (mesos_buffer_t){info_bytes, info_len}, argv[1], &options, &driver);
    free(info_bytes);
    if (status != MESOS_OK) {
        fprintf(stderr, "cannot create the driver (%d): %s\n", status, mesos_last_error());
        return 1;
    }

    status = mesos_scheduler_driver_run(driver);
    printf("driver ended with status %d\n", status);
    mesos_scheduler_driver_destroy(driver);

    int ok = status == MESOS_DRIVER_STOPPED && !fw.driver_failed && fw.finished == fw.tasks;
    return ok ? 0 : 1;
}
