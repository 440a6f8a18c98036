// Simple Blender Render: render a frame range with Blender, a chunk of frames per task,
// then stitch the rendered images into an MP4 preview with FFmpeg.
//
// Built-in job type of flamenco-manager-c. The setting keys, their order, types and `eval`
// expressions are the interface the Blender add-on and the workers rely on; the wording of
// the descriptions is our own. Golden tests: tests/jobc/simple-blender-render/.

const JOB_TYPE = {
    label: "Simple Blender Render",
    description: "Render frames with Blender in chunks, then make a preview video of them",
    settings: [
        // Filled in by the add-on from the scene unless the user unlinks it.
        {
            key: "frames",
            type: "string",
            required: true,
            eval: "f'{C.scene.frame_start}-{C.scene.frame_end}'",
            evalInfo: {
                showLinkButton: true,
                description: "Take the start and end frame of the current scene",
            },
            description: "Frames to render: ranges and lists such as 1-100, 1,5,10-20 or Blender's 1..100",
        },
        {
            key: "chunk_size",
            type: "int32",
            default: 1,
            description: "How many frames one render task renders; bigger chunks mean fewer, longer tasks",
            visible: "submission",
        },

        // Where the frames end up. The add-on computes render_output_path from these.
        {
            key: "render_output_root",
            type: "string",
            subtype: "dir_path",
            required: true,
            description: "Directory that holds the renders of all jobs; each job gets its own directory below it",
            visible: "submission",
        },
        {
            key: "add_path_components",
            type: "int32",
            required: true,
            default: 0,
            propargs: { min: 0, max: 32 },
            description: "Number of parent directories of the blend file to repeat below the output root, so shots with the same job name stay apart",
            visible: "submission",
        },
        {
            key: "render_output_path",
            type: "string",
            subtype: "file_path",
            editable: false,
            eval: "str(Path(abspath(settings.render_output_root), last_n_dir_parts(settings.add_path_components), jobname, '{timestamp}', '######'))",
            description: "Output path handed to Blender, built from the output root, the blend file location, the job name and the submission time",
        },

        // Taken from the blend file and its scene when the job is submitted.
        {
            key: "blendfile",
            type: "string",
            required: true,
            description: "The blend file to render, at the location the workers can read it",
            visible: "web",
        },
        {
            key: "fps",
            type: "float",
            eval: "C.scene.render.fps / C.scene.render.fps_base",
            description: "Frame rate of the preview video, in frames per second",
            visible: "hidden",
        },
        {
            key: "format",
            type: "string",
            required: true,
            eval: "C.scene.render.image_settings.file_format",
            description: "Blender's file format for the rendered images; video formats cannot be rendered by this job type",
            visible: "web",
        },
        {
            key: "image_file_extension",
            type: "string",
            required: true,
            eval: "C.scene.render.file_extension",
            description: "File name extension of the rendered images, dot included",
            visible: "hidden",
        },
        {
            key: "has_previews",
            type: "bool",
            required: false,
            eval: "C.scene.render.image_settings.use_preview",
            description: "Whether Blender also saves JPEG previews of EXR images; the preview video is made from those",
            visible: "hidden",
        },
        {
            key: "scene",
            type: "string",
            required: true,
            eval: "C.scene.name",
            description: "Scene to render; when empty, Blender renders the scene the file was saved with",
            visible: "web",
        },
    ],
};

// Blender writes these as video files, not as one image per frame.
const VIDEO_FORMATS = new Set(["FFMPEG", "AVI_RAW", "AVI_JPEG"]);

// FFmpeg cannot read these; Blender writes a JPEG preview beside each image when asked to.
const EXR_FORMATS = new Set(["EXR", "MULTILAYER", "OPEN_EXR", "OPEN_EXR_MULTILAYER"]);

// Run by Blender before rendering: always add the file extension, never overwrite a frame
// that already exists and do not write empty placeholder files.
const RENDER_SETUP_PYTHON = [
    "import bpy",
    "r = bpy.context.scene.render",
    "r.use_file_extension = True",
    "r.use_overwrite = False",
    "r.use_placeholder = False",
].join("; ");

const FFMPEG_ARGS = ["-c:v", "h264", "-crf", "20", "-g", "18",
                     "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p"];

// Errors are thrown as plain strings so the Manager reports exactly this text.
function compileJob(job) {
    const settings = job.settings;
    if (VIDEO_FORMATS.has(settings.format)) {
        throw `This job type only renders images, and not "${settings.format}"`;
    }
    if (!settings.render_output_path) {
        throw "no render_output_path setting!";
    }

    // The add-on leaves the time stamp to the Manager; store the path as it will be used.
    const renderOutput = settings.render_output_path.replaceAll("{timestamp}", formatTimestampLocal(job.created));
    settings.render_output_path = renderOutput;
    const renderDir = path.dirname(renderOutput);

    const renderTasks = addRenderTasks(job, renderDir, path.basename(renderOutput));
    addPreviewVideoTask(job, renderDir, renderTasks);
}

// One Blender task per chunk of frames; returns the tasks in the order they were added.
function addRenderTasks(job, renderDir, outputName) {
    const { blendfile, format, scene, frames, chunk_size: chunkSize } = job.settings;
    const sceneArgs = scene ? ["--scene", scene] : [];
    const renderOutput = path.join(renderDir, outputName);

    const tasks = [];
    for (const chunk of frameChunker(frames, chunkSize)) {
        const task = author.Task(`render-${chunk}`, "blender");
        task.addCommand(author.Command("blender-render", {
            exe: "{blender}",
            exeArgs: "{blenderArgs}",
            argsBefore: [],
            blendfile,
            args: [
                ...sceneArgs,
                "--python-expr", RENDER_SETUP_PYTHON,
                "--render-output", renderOutput,
                "--render-format", format,
                // Blender's own range notation is "a..b".
                "--render-frame", chunk.replaceAll("-", ".."),
            ],
        }, frameCount(chunk)));
        job.addTask(task);
        tasks.push(task);
    }
    return tasks;
}

// The preview video, made once every render task is done. Skipped when there is no frame
// rate to give FFmpeg, or when the frames are EXR files without JPEG previews.
function addPreviewVideoTask(job, renderDir, renderTasks) {
    const { format, fps, has_previews: hasPreviews, image_file_extension: extension } = job.settings;
    const isEXR = EXR_FORMATS.has(format);
    if ((isEXR && !hasPreviews) || !fps) {
        return;
    }

    const inputExtension = isEXR ? ".jpg" : extension;
    const videoName = `${blendStem(job.settings.blendfile)}-${videoFrameRange(job.settings.frames)}.mp4`;

    const task = author.Task("preview-video", "ffmpeg");
    task.addCommand(author.Command("frames-to-video", {
        exe: "ffmpeg",
        fps,
        inputGlob: path.join(renderDir, `*${inputExtension}`),
        outputFile: path.join(renderDir, videoName),
        args: [...FFMPEG_ARGS, "-r", fps, "-y"],
    }));
    renderTasks.forEach((t) => task.addDependency(t));
    job.addTask(task);
}

// File name of the blend file without its extension and without the ".flamenco" that
// packing inserts (only the first one).
const blendStem = (blendfile) => path.stem(blendfile).replace(".flamenco", "");

// Frames as they appear in the video file name: the setting itself, or for a list the span
// from its lowest to its highest frame.
function videoFrameRange(frames) {
    if (!frames.includes(",")) {
        return frames;
    }
    // A single chunk holding every frame, e.g. "1-3,7,10-12": first and last number.
    const all = frameChunker(frames, frameCount(frames));
    const numbers = all[0].split(/[-,]/);
    return `${numbers[0]}-${numbers[numbers.length - 1]}`;
}
