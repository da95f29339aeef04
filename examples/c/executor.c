/*
 * A Mesos executor in C on libmesos: runs each task's `data` as a shell command on a
 * thread of its own, reporting TASK_RUNNING, then TASK_FINISHED (exit status 0) or
 * TASK_FAILED. The agent starts it with the MESOS_* environment the driver reads; the
 * framework in framework.c uses it when given its path.
 *
 * It exits 0 when the driver stops (the agent's SHUTDOWN, after the framework is done),
 * once every task it started has reported its end.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <mesos/mesos.h>

#include "mesos/v1/mesos.pb-c.h"

/* Tasks still running, for main to wait on before it destroys the driver. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int active = 0;

struct task {
    mesos_executor_driver_t *driver;
    char *id;
    char *command;
};

/* Sends the update `state` (with `message`, may be NULL) for the task `id`. */
static void send_update(mesos_executor_driver_t *driver, const char *id,
                        Mesos__V1__TaskState state, const char *message) {
    Mesos__V1__TaskID task_id;
    mesos__v1__task_id__init(&task_id);
    task_id.value = (char *)id;
    Mesos__V1__TaskStatus status;
    mesos__v1__task_status__init(&status);
    status.task_id = &task_id;
    status.state = state;
    status.message = (char *)message;
    uint8_t packed[1024];
    size_t len = mesos__v1__task_status__get_packed_size(&status);
    if (len > sizeof packed) {
        fprintf(stderr, "executor: the update of %s is too large\n", id);
        return;
    }
    mesos__v1__task_status__pack(&status, packed);
    mesos_status_t sent =
        mesos_executor_driver_send_status_update(driver, (mesos_buffer_t){packed, len});
    if (sent != MESOS_DRIVER_RUNNING) {
        fprintf(stderr, "executor: update of %s not sent (%d): %s\n", id, sent,
                mesos_last_error());
    }
}

static void *run_task(void *arg) {
    struct task *task = arg;
    int status = system(task->command);
    char message[64];
    int ok = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    snprintf(message, sizeof message, "C executor: command exited with status %d",
             status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    send_update(task->driver, task->id,
                ok ? MESOS__V1__TASK_STATE__TASK_FINISHED : MESOS__V1__TASK_STATE__TASK_FAILED,
                message);
    free(task->id);
    free(task->command);
    free(task);
    pthread_mutex_lock(&lock);
    active--;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void launch_task(mesos_executor_driver_t *driver, void *user_data, mesos_buffer_t buffer) {
    (void)user_data;
    Mesos__V1__TaskInfo *info = mesos__v1__task_info__unpack(NULL, buffer.len, buffer.data);
    if (info == NULL) {
        fprintf(stderr, "executor: a task did not unpack\n");
        return;
    }
    struct task *task = calloc(1, sizeof *task);
    if (task == NULL) {
        mesos__v1__task_info__free_unpacked(info, NULL);
        return;
    }
    task->driver = driver;
    task->id = strdup(info->task_id->value);
    task->command = info->has_data ? strndup((const char *)info->data.data, info->data.len)
                                   : strdup("true");
    mesos__v1__task_info__free_unpacked(info, NULL);
    printf("executor: running %s: %s\n", task->id, task->command);
    fflush(stdout);
    send_update(driver, task->id, MESOS__V1__TASK_STATE__TASK_RUNNING, NULL);

    pthread_mutex_lock(&lock);
    active++;
    pthread_mutex_unlock(&lock);
    pthread_t thread;
    if (pthread_create(&thread, NULL, run_task, task) != 0) {
        send_update(driver, task->id, MESOS__V1__TASK_STATE__TASK_FAILED, "no thread");
        pthread_mutex_lock(&lock);
        active--;
        pthread_mutex_unlock(&lock);
        free(task->id);
        free(task->command);
        free(task);
        return;
    }
    pthread_detach(thread);
}

static void kill_task(mesos_executor_driver_t *driver, void *user_data, mesos_buffer_t task_id) {
    (void)driver;
    (void)user_data;
    (void)task_id;
    fprintf(stderr, "executor: killing tasks is not supported; the task runs to its end\n");
}

static void error(mesos_executor_driver_t *driver, void *user_data, const char *message) {
    (void)driver;
    (void)user_data;
    fprintf(stderr, "executor: driver error: %s\n", message);
}

int main(void) {
    mesos_executor_callbacks_t callbacks = {
        .launch_task = launch_task,
        .kill_task = kill_task,
        .error = error,
    };
    mesos_executor_driver_t *driver = NULL;
    if (mesos_executor_driver_create(&callbacks, NULL, &driver) != MESOS_OK) {
        fprintf(stderr, "executor: %s\n", mesos_last_error());
        return 1;
    }
    mesos_status_t status = mesos_executor_driver_run(driver);
    pthread_mutex_lock(&lock);
    while (active > 0) {
        pthread_cond_wait(&changed, &lock);
    }
    pthread_mutex_unlock(&lock);
    mesos_executor_driver_destroy(driver);
    printf("executor: driver ended with status %d\n", status);
    return status == MESOS_DRIVER_STOPPED ? 0 : 1;
}
