// Echo Sleep Test: a job that needs no Blender, for trying out workers and the farm itself.
// It prints a message, then runs a number of sleep tasks that all wait for that message.
//
// Built-in job type of flamenco-manager-c. Golden tests: tests/jobc/echo-sleep-test/.

const JOB_TYPE = {
    label: "Echo Sleep Test",
    description: "Print a message, then sleep; tests workers without rendering anything",
    settings: [
        {
            key: "message",
            type: "string",
            required: true,
            description: "Text the first task writes to the task log",
        },
        {
            key: "sleep_duration_seconds",
            type: "int32",
            default: 1,
            description: "How long each sleep task waits, in seconds",
        },
        {
            key: "sleep_repeats",
            type: "int32",
            default: 1,
            description: "Number of sleep tasks to run after the message",
        },
    ],
};

function compileJob(job) {
    const { message, sleep_duration_seconds: seconds, sleep_repeats: repeats } = job.settings;

    const echo = author.Task("echo", "misc");
    echo.addCommand(author.Command("echo", { message }));
    job.addTask(echo);

    for (let i = 0; i < repeats; i++) {
        const sleep = author.Task("sleep", "misc");
        sleep.addCommand(author.Command("sleep", { duration_in_seconds: seconds }));
        sleep.addDependency(echo);
        job.addTask(sleep);
    }
}
