# Runs inside Blender: builds the tiny test scene the end-to-end harness
# submits, and saves it next to the image texture it uses.
#
#   blender -b --factory-startup --python make_scene.py -- OUT.blend TEXTURE.png
#
# The texture is a separate PNG file (not packed into the .blend) so that the
# add-on has a real dependency to copy or upload alongside the blendfile.
import sys

import bpy

out_blend, texture_png = sys.argv[sys.argv.index("--") + 1:][:2]

# A small checkerboard, generated here so the harness needs no image tools.
size = 32
img = bpy.data.images.new("e2e_checker", width=size, height=size)
pixels = []
for y in range(size):
    for x in range(size):
        on = ((x // 8) + (y // 8)) % 2 == 0
        pixels += [0.9, 0.2, 0.1, 1.0] if on else [0.1, 0.3, 0.9, 1.0]
img.pixels = pixels
img.filepath_raw = texture_png
img.file_format = "PNG"
img.save()
bpy.data.images.remove(img)

# Start from an empty scene; factory startup has a cube, camera and light,
# but building them here keeps the scene independent of startup files.
for obj in list(bpy.data.objects):
    bpy.data.objects.remove(obj)

scene = bpy.context.scene
bpy.ops.mesh.primitive_cube_add(size=2.0, location=(0, 0, 0))
cube = bpy.context.active_object

mat = bpy.data.materials.new("e2e_textured")
mat.use_nodes = True
nodes = mat.node_tree.nodes
tex = nodes.new("ShaderNodeTexImage")
# Load from disk (relative path), so the .blend refers to the external file.
tex.image = bpy.data.images.load(texture_png)
bsdf = nodes["Principled BSDF"]
mat.node_tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
cube.data.materials.append(mat)

bpy.ops.object.camera_add(location=(5, -5, 4), rotation=(1.1, 0, 0.785))
scene.camera = bpy.context.active_object
bpy.ops.object.light_add(type="SUN", location=(3, -2, 6))

# Animate the cube a little, so the three frames differ.
cube.rotation_euler = (0, 0, 0)
cube.keyframe_insert("rotation_euler", frame=1)
cube.rotation_euler = (0, 0, 0.6)
cube.keyframe_insert("rotation_euler", frame=3)

scene.frame_start = 1
scene.frame_end = 3
scene.render.engine = "CYCLES"
scene.cycles.samples = 4
scene.cycles.device = "CPU"
# Debian's Blender is built without OpenImageDenoise.
scene.cycles.use_denoising = False
scene.render.resolution_x = 64
scene.render.resolution_y = 48
scene.render.resolution_percentage = 100
scene.render.image_settings.file_format = "PNG"

bpy.context.preferences.filepaths.save_version = 0  # no scene.blend1
bpy.ops.wm.save_as_mainfile(filepath=out_blend)
# Make the texture path relative, as an artist's file usually has it.
bpy.ops.file.make_paths_relative()
bpy.ops.wm.save_mainfile()
for image in bpy.data.images:
    print("E2E image:", image.name, image.filepath)
print("E2E scene saved:", out_blend, "texture:", texture_png)
